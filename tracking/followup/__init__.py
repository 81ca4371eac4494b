"""Follow-up (issue 16): the reporting calendar, completeness and timeliness, closed periods, reminders.

calendar: a programme's reporting periods and due dates, pure functions of
its frequency and due rule. selectors: the completeness grid and the
reporting rates (DHIS2's definitions), set-based. closing: closed periods,
the one check every write of a report asks (ensure_open), and the services
that close and reopen.
"""

"""The Django admin: where district union clerks enter progress and city unions review it.

One module per admin (regions, programmes, targets, reports) and one per
shared piece: scope (row-level scope and service refusals), filters,
display (numbers, bars, badges), imports (the spreadsheet import pages) and
dashboard (进度看板), history (history pages). The site itself (its index
order, the scoped autocomplete) is tracking/admin_site.py. Two rules hold everywhere: every queryset, choice list
and object permission starts from visible_to(user), and every write goes
through tracking.services, so the admin cannot do what the API may not.
"""

from . import followup, programmes, regions, reports, targets  # noqa: F401  (each registers its admins)

"""The reporting calendar: which periods a programme reports for, and when each report is due.

A programme reports monthly, quarterly, half-yearly or once (its whole
span); its due rule is "N days after each period ends". Both come from the
programme, or else from the settings TRACKING_REPORTING_FREQUENCY and
TRACKING_REPORTING_DUE_DAYS. Periods follow the calendar (a quarter is
January to March, ...), clipped to the programme's own start and end, so a
plan for 2024 reporting monthly has twelve periods, January's due on
5 February with the default rule. A report belongs to the period containing
its date (its period_end). Everything here is a pure function of its
arguments: the date is always passed in, never read from the clock.
"""

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

MONTHLY, QUARTERLY, HALF_YEARLY, ONCE = "monthly", "quarterly", "half_yearly", "once"
FREQUENCY_CHOICES = [
    (MONTHLY, _("每月")),
    (QUARTERLY, _("每季度")),
    (HALF_YEARLY, _("每半年")),
    (ONCE, _("一次")),
]
# Months per period for the calendar-aligned frequencies.
MONTHS = {MONTHLY: 1, QUARTERLY: 3, HALF_YEARLY: 6}


@dataclass(frozen=True)
class Period:
    """One reporting period: its first and last day, and the last day a report for it is on time."""

    start: datetime.date
    end: datetime.date
    due: datetime.date
    frequency: str

    @functools.cached_property
    def key(self):
        """A short stable name: 2024-03 (month), 2024Q1, 2024H1, or the first day for "once".

        Kept once made: a national grid asks each of the few cached periods for it 34,000 times."""
        if self.frequency == MONTHLY:
            return f"{self.start:%Y-%m}"
        if self.frequency == QUARTERLY:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.frequency == HALF_YEARLY:
            return f"{self.start.year}H{(self.start.month - 1) // 6 + 1}"
        return self.start.isoformat()

    @property
    def label(self):
        """How a Chinese screen names it: 3月, 第1季度, 上半年, or the span."""
        if self.frequency == MONTHLY:
            return _("%(m)d月") % {"m": self.start.month}
        if self.frequency == QUARTERLY:
            return _("第%(q)d季度") % {"q": (self.start.month - 1) // 3 + 1}
        if self.frequency == HALF_YEARLY:
            return _("上半年") if self.start.month <= 6 else _("下半年")
        return f"{self.start}～{self.end}"

    def contains(self, day):
        return self.start <= day <= self.end


def rule_of(programme):
    """(frequency, due days) of a programme: its own, or the settings' default for what it leaves blank."""
    frequency = getattr(programme, "reporting_frequency", "") or settings.TRACKING_REPORTING_FREQUENCY
    due_days = getattr(programme, "due_days", None)
    if due_days is None:
        due_days = settings.TRACKING_REPORTING_DUE_DAYS
    return frequency, due_days


@functools.lru_cache(maxsize=4096)
def periods(start, end, *, frequency, due_days):
    """The reporting periods covering start..end (inclusive), in order, each due `due_days` after it ends.

    A tuple, cached: an import or a national grid asks for the same few calendars many times.
    """
    return tuple(_periods(start, end, frequency, due_days))


def _periods(start, end, frequency, due_days):
    if start > end:
        return []
    if frequency == ONCE:
        return [Period(start, end, end + datetime.timedelta(days=due_days), ONCE)]
    if frequency not in MONTHS:
        raise ValueError(f"unknown reporting frequency {frequency!r}")
    months = MONTHS[frequency]
    result = []
    # The calendar period containing `start`: months 1, 4, 7, 10 begin quarters, and so on.
    first = datetime.date(start.year, (start.month - 1) // months * months + 1, 1)
    while first <= end:
        following = _add_months(first, months)
        last = following - datetime.timedelta(days=1)
        clipped = Period(max(first, start), min(last, end), min(last, end) + datetime.timedelta(days=due_days), frequency)
        result.append(clipped)
        first = following
    return result


def programme_periods(programme):
    """A programme's reporting periods, by its rule (see rule_of). Anything with period_start and
    period_end (and optionally reporting_frequency, due_days) will do, a values() row's stand-in too."""
    frequency, due_days = rule_of(programme)
    return periods(programme.period_start, programme.period_end, frequency=frequency, due_days=due_days)


def period_of(day, programme_periods_):
    """The period containing `day`, or None when it falls outside them all."""
    for period in programme_periods_:
        if period.contains(day):
            return period
    return None


def _add_months(day, months):
    month = day.month - 1 + months
    return datetime.date(day.year + month // 12, month % 12 + 1, 1)

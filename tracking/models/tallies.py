"""A programme's summary figures, kept for national summaries (tracking.tallies counts them)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .programmes import Programme
from .targets import Target


class ProgrammeTallyQuerySet(models.QuerySet):
    def current(self, day=None):
        """The tallies whose figures hold on this day (today): counted that day, or before it with no
        target due to change status since (valid_until); and with today's tolerance."""
        day = day or timezone.localdate()
        return self.filter(
            Q(counted_on=day) | Q(Q(valid_until__isnull=True) | Q(valid_until__gte=day), counted_on__lt=day),
            tolerance=settings.TRACKING_BEHIND_TOLERANCE,
        )


class ProgrammeTally(models.Model):
    """A programme's targets counted per status, with completion and pending reports: one row per programme.

    A national summary adds up 2,844 of these instead of judging 57,000
    targets. Recounted (tracking.tallies.recount) in the same transaction as
    every change to the stored totals of a target, to a target's programme,
    and a target's deletion. Statuses move with the date, so a tally is only
    read while current() (until a target may fall behind or become overdue); the
    summary counts the programmes of the others target by target, and
    `manage.py recount_tallies` (daily, and at every start) recounts them.
    """

    programme = models.OneToOneField(Programme, models.CASCADE, primary_key=True, related_name="tally")
    # The programme's, so that a year's tallies are one index range: summaries are per year.
    year = models.PositiveSmallIntegerField(db_index=True)
    targets = models.PositiveIntegerField(default=0)
    not_started = models.PositiveIntegerField(default=0)
    on_track = models.PositiveIntegerField(default=0)
    behind = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    achieved = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    completion_sum = models.FloatField(default=0.0)
    with_value = models.PositiveIntegerField(default=0)
    pending_reports = models.PositiveIntegerField(default=0)
    counted_on = models.DateField()
    # The last day on which every target keeps the status counted (tracking.progress.last_day_of_status).
    valid_until = models.DateField(null=True, help_text="null: every target's status is final")
    tolerance = models.FloatField()

    objects = ProgrammeTallyQuerySet.as_manager()

    FIGURES = (
        "year", "targets", *Target.Status.values, "completion_sum", "with_value", "pending_reports",
        "counted_on", "valid_until", "tolerance",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    targets=F("not_started") + F("on_track") + F("behind") + F("overdue") + F("achieved") + F("reported")
                ),
                name="tally_statuses_add_up",
            ),
        ]


class ProgrammeMonth(models.Model):
    """A programme's reports of one month (of their date), as the completeness grid counts them.

    The grid of the whole country reads the 34,000 rows of a year's plans
    instead of grouping 600,000 reports (tracking.followup.selectors). Recounted
    (tracking.months.recount) in the same transaction as every change to a
    report: every workflow step, every import, every deletion, through
    tracking.totals.refresh or beside it; `manage.py verify_progress` compares
    them with a count from the reports. A month without reports has no row.
    """

    programme = models.ForeignKey(Programme, models.CASCADE, related_name="months", db_index=False)
    # The month's first day: the reports dated (period_end) in that month.
    month = models.DateField()
    # The earliest submission moment among the reports that count (submitted or approved): their
    # submitted_at, or else their review time, or else their last change (tracking.followup.selectors).
    first_counted = models.DateTimeField(null=True)
    returned = models.PositiveIntegerField(default=0)
    drafts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # One row per programme and month; its index serves the grid's read of a year's programmes
            # and the recount's deletion of a programme's rows.
            models.UniqueConstraint(fields=["programme", "month"], name="programme_month_unique"),
        ]

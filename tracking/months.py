"""Monthly report counts per programme, kept for the completeness grid.

One row per programme and month of its reports' dates (tracking.models.ProgrammeMonth):
the earliest submission among the reports that count, and how many are returned
or drafts, which is all the grid needs of them (tracking.followup.selectors
folds months into reporting periods and judges each period's state). The grid
of the whole country then reads 34,000 such rows instead of grouping 600,000
reports.

recount() counts a programme's months again from its reports, in the caller's
transaction. Every change to a report recounts its programme: the workflow
steps that change what counts through tracking.totals.refresh (which also
covers loaded fixtures and scripts), and beside it the writes that change no
total (drafts created, edited or deleted, deleted targets and items, a target
moved to another programme, a drafted plan). An import only adds drafts, and
adds them to their months (add_drafts()). wrong_months() is what
`manage.py verify_progress` checks.

A report's submission moment is its submitted_at (every submission sets it:
tracking.services.reports), or else its review time, or else its last change
(reports approved before moments were recorded, or loaded from a document).
"""

import datetime

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from . import tallies
from .models import Programme, ProgrammeMonth, ProgressReport

Status = ProgressReport.Status
# The reports that count as received: their earliest moment makes a period on time or late.
COUNTED = (Status.SUBMITTED, Status.APPROVED)
FIELDS = ("programme_id", "month", "first_counted", "returned", "drafts")


def counted(programme_ids=None, *, before=None):
    """These programmes' months (None: every programme's) counted from their reports: values() rows of
    FIELDS.

    before: a moment; submissions at or after it do not count toward first_counted
    (as if they had not happened yet).
    """
    first = Q(status__in=COUNTED)
    if before is not None:
        first &= Q(moment__lt=before)
    reports = ProgressReport.objects.all()
    if programme_ids is not None:
        reports = reports.filter(target__programme__any=list(programme_ids))
    return (
        reports
        .alias(moment=Coalesce("submitted_at", "reviewed_at", "updated_at"))
        .annotate(programme_id=F("target__programme_id"), month=TruncMonth("period_end"))
        .values("programme_id", "month")
        .order_by()
        .annotate(
            first_counted=Min("moment", filter=first),
            returned=Count("pk", filter=Q(status=Status.RETURNED)),
            drafts=Count("pk", filter=Q(status=Status.DRAFT)),
        )
    )


def stored(programme_ids):
    """The stored rows of these programmes, as tuples in the order of FIELDS (what counted() counts)."""
    return ProgrammeMonth.objects.filter(programme__any=list(programme_ids)).values_list(*FIELDS)


def days_stored(programme_ids, *, as_of):
    """What the grid reads: (programme_id, month, first day, returned, drafts) tuples of these programmes,
    where the first day is the local day of the earliest counted submission made by as_of, or None.

    The stored minimum is the earliest of all submissions: the earliest of
    those made by as_of is that one if it was, and there is none otherwise.
    The database gives the local day (a date loads several times faster than
    a moment with its time zone, and the grid only compares days).
    """
    rows = (
        ProgrammeMonth.objects.filter(programme__any=list(programme_ids))
        .values_list("programme_id", "month", TruncDate("first_counted"), "returned", "drafts")
    )
    for programme_id, month, first, returned, drafts in rows:
        yield programme_id, month, (first if first is not None and first <= as_of else None), returned, drafts


def days_counted(programme_ids, *, as_of):
    """The same as days_stored(), counted from the reports themselves (for checking the stored months):
    the submissions after as_of are left out before the earliest is taken."""
    cutoff = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time()))
    for programme_id, month, first, returned, drafts in counted(programme_ids, before=cutoff).values_list(*FIELDS):
        yield programme_id, month, (None if first is None else timezone.localdate(first)), returned, drafts


def recount(programme_ids, batch_size=2000, *, locked=False):
    """Count the months of these programmes again from their reports; returns how many programmes.

    Their tally rows are locked first (tracking.tallies.lock_programmes), so
    that two transactions changing reports of one programme count one after
    the other; locked=True: the caller's transaction already holds them
    (tracking.totals.refresh, right after tracking.tallies.recount). Then the
    programmes' rows are replaced by one INSERT … SELECT.
    """
    programme_ids = sorted(set(programme_ids))
    with transaction.atomic():
        for start in range(0, len(programme_ids), batch_size):
            batch = programme_ids[start:start + batch_size]
            locked_ids = batch if locked else list(tallies.lock_programmes(batch))
            if not locked_ids:
                continue
            ProgrammeMonth.objects.filter(programme__any=locked_ids).delete()
            insert(counted(locked_ids))
    return len(programme_ids)


def add_drafts(counts, batch_size=2000):
    """New drafts, {(programme id, first day of their month): how many}, added to their months.

    What an import does instead of recount(): it only creates drafts (and edits
    drafts or returned reports, which changes nothing here), so each month it
    touches gains that many drafts and nothing else changes: 0.1 s for a
    100,000-row file's 5,040 months, where recounting its 420 programmes took
    0.64 s (benchmarks/followup.md).
    The programmes are locked as recount() locks them, so that a recount
    running beside it counts before or after, never in between.
    """
    programme_ids = sorted({programme_id for programme_id, _month in counts})
    for start in range(0, len(programme_ids), batch_size):
        tallies.lock_programmes(programme_ids[start:start + batch_size])
    table = connection.ops.quote_name(ProgrammeMonth._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (programme_id, month, first_counted, returned, drafts) VALUES (%s, %s, NULL, 0, %s) "
            f"ON CONFLICT (programme_id, month) DO UPDATE SET drafts = {table}.drafts + EXCLUDED.drafts",
            [(programme_id, month, count) for (programme_id, month), count in sorted(counts.items())],
        )


def insert(rows):
    """INSERT INTO the months' table the rows of a counted() queryset, in one statement."""
    compiler = rows.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    names = [alias or expression.target.attname for expression, _sql, alias in compiler.select]
    columns = ", ".join(connection.ops.quote_name(ProgrammeMonth._meta.get_field(name).column) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {connection.ops.quote_name(ProgrammeMonth._meta.db_table)} ({columns}) {sql}", params)
        return cursor.rowcount


def rebuild():
    """Every programme's months from all reports, in one pass (generate_scale_data's set-based end)."""
    with transaction.atomic():
        ProgrammeMonth.objects.all().delete()
        return insert(counted())


def wrong_months(batch_size=2000):
    """Programmes whose stored months differ from a count of their reports now."""
    wrong = []
    ids = list(Programme.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        fresh, kept = {}, {}
        for row in counted(batch).values_list(*FIELDS):
            fresh.setdefault(row[0], set()).add(normal(row))
        for row in stored(batch):
            kept.setdefault(row[0], set()).add(normal(row))
        wrong.extend(pk for pk in batch if fresh.get(pk) != kept.get(pk))
    return wrong


def normal(row):
    """A row as compared, its month a date whatever the backend gave back for it."""
    month = row[1]
    if isinstance(month, str):
        month = datetime.date.fromisoformat(month[:10])
    elif isinstance(month, datetime.datetime):
        month = month.date()
    return (row[0], month, *row[2:])


def repair_months():
    """Recount the programmes whose months are wrong; returns them."""
    wrong = wrong_months()
    recount(wrong)
    return wrong

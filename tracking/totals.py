"""The stored totals: each target's approved progress, kept on its row.

refresh() recomputes them from the reports by the progress rule
(tracking.progress) and recounts the programmes' tallies and monthly report
counts (tracking.tallies, tracking.months), in the caller's transaction. Every service that changes what counts calls it; the receiver in
tracking/models/signals.py covers fixture loading. stale_targets() and
repair_progress() are what `manage.py verify_progress` runs.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Now

from . import months, tallies
from .models import Target
from .progress import progress_expressions


def refresh(targets):
    """Recompute the stored totals of these targets (a queryset, or their ids), then their programmes'
    tallies and months.

    Called in the same transaction as every change to a report, so the stored
    figures can never disagree with the approved data.
    """
    if not isinstance(targets, QuerySet):
        targets = Target.objects.filter(pk__any=list(targets))
    figures = {f"cached_{name}": expr for name, expr in progress_expressions().items()}
    with transaction.atomic():
        updated = targets.update(**figures, updated_at=Now())
        programme_ids = list(targets.values_list("programme_id", flat=True).distinct())
        tallies.recount(programme_ids)
        # The reports' months (completeness), under the locks the tallies' recount took.
        months.recount(programme_ids, locked=True)
    return updated


def stale_targets():
    """Ids of targets whose stored totals differ from a from-scratch computation."""
    names = list(progress_expressions())
    rows = Target.objects.annotate(**{f"fresh_{name}": expr for name, expr in progress_expressions().items()})
    rows = rows.values("pk", *[f"cached_{name}" for name in names], *[f"fresh_{name}" for name in names])
    return [row["pk"] for row in rows.iterator() if any(row[f"cached_{n}"] != row[f"fresh_{n}"] for n in names)]


def repair_progress():
    """Recompute the stored totals that are wrong; returns the ids that were."""
    stale = stale_targets()
    refresh(stale)
    return stale

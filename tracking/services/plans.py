"""Writes of programmes, items and targets, and what each one changes besides its own row.

A target's aggregation or target value changes its progress and status, a
programme's start moves its targets' expected progress, and adding, moving
or deleting a target changes what its programme's tally counts, and its
reports' months (tracking.months, for the completeness grid): each function
below makes those recounts itself, in the same transaction. The
admin calls these; who may call them is its permission checks' business
(tracking.access.may_manage for code outside the admin).
"""

from django.db import transaction

from .. import months, tallies, totals
from ..db import lock
from ..models import ProgrammeTally, Target


@transaction.atomic
def save_programme(*, programme):
    """Create or change a programme; a new start moves its targets' statuses, so the tally is recounted."""
    programme.save()
    tallies.recount([programme.pk])
    return programme


@transaction.atomic
def save_target(*, target):
    """Create or change a target, recounting its stored totals and the tallies of the programmes it is in and left."""
    left = None
    if target.pk is not None:
        # The order an approval locks in (target, then tally), and both
        # tallies in key order: two opposite moves could deadlock otherwise.
        lock(Target.objects.filter(pk=target.pk))
        left = Target.objects.filter(pk=target.pk).values_list("programme_id", flat=True).first()
        if left is not None and left != target.programme_id:
            lock(ProgrammeTally.objects.filter(pk__in=[left, target.programme_id]))
    target.save()
    # Its aggregation or target value may have changed its progress.
    totals.refresh([target.pk])
    if left is not None and left != target.programme_id:
        # Its reports went with it.
        tallies.recount([left])
        months.recount([left])
    return target


@transaction.atomic
def delete_target(*, target):
    programme_id = target.programme_id
    target.delete()
    tallies.recount([programme_id])
    months.recount([programme_id])


@transaction.atomic
def delete_item(*, item):
    """An item goes with its targets and their reports."""
    lock(Target.objects.filter(item=item))
    item.delete()
    tallies.recount([item.programme_id])
    months.recount([item.programme_id])


@transaction.atomic
def delete_programme(*, programme):
    """A programme goes with its items, targets, reports and tally.

    An approval locks a target, then the tally: locking the targets first
    here makes a deletion wait for the approval instead of deadlocking with
    it (Django deletes the tally first, having no signals to send for it).
    """
    lock(Target.objects.filter(programme=programme))
    programme.delete()




"""A manager's changes to targets, items and programmes in the admin recount what they change.

The admin saves and deletes them through tracking.services.plans, which
refresh the stored totals and recount the programme's tally in the same
transaction: the summaries never read a tally the change left behind.
"""

import datetime

from django.urls import reverse

from tracking.models import Item, ProgrammeTally, Programme, ProgressReport, Target
from tracking.tallies import wrong_tallies
from tracking.totals import stale_targets

from .conftest import make_target, report

D = datetime.date


def management_form(prefix="reports"):
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}


def target_form(target, **changes):
    fields = {
        "code": target.code, "name": target.name, "unit": target.unit, "target_value": str(target.target_value),
        "measure": target.measure, "aggregation": target.aggregation, "due_date": target.due_date.isoformat(),
    }
    return {**fields, **changes, **management_form()}


def test_a_new_target_value_changes_the_stored_completion_and_the_tally(songqingliang, tongzhou_manager, logged_in):
    report(songqingliang, D(2024, 6, 30), 6000)

    response = logged_in(tongzhou_manager).post(
        reverse("admin:tracking_target_change", args=[songqingliang.pk]), target_form(songqingliang, target_value="6000")
    )

    assert response.status_code == 302
    target = Target.objects.with_progress().get(pk=songqingliang.pk)
    assert (target.target_value, target.completion, target.status) == (6000, 100.0, Target.Status.ACHIEVED)
    assert ProgrammeTally.objects.get(pk=songqingliang.programme_id).achieved == 1
    assert stale_targets() == [] and wrong_tallies() == []


def test_deleting_a_target_in_the_admin_recounts_its_programmes_tally(songqingliang, tongzhou_manager, logged_in):
    other = make_target(songqingliang.programme, number=5, code="5.1", name="职工疗休养", target_value="300")
    # A draft: a target with approved reports is not the manager's to delete (the admin's delete check).
    report(other, D(2024, 6, 30), 100, status=ProgressReport.Status.DRAFT)
    assert ProgrammeTally.objects.get(pk=songqingliang.programme_id).targets == 2

    response = logged_in(tongzhou_manager).post(
        reverse("admin:tracking_target_delete", args=[other.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Target.objects.filter(pk=other.pk).exists()
    assert ProgrammeTally.objects.get(pk=songqingliang.programme_id).targets == 1
    assert wrong_tallies() == []


def test_deleting_targets_from_the_list_recounts_the_tally_once_for_all(songqingliang, tongzhou_manager, logged_in):
    others = [make_target(songqingliang.programme, number=5, code=f"5.{n}", name=f"指标{n}") for n in (1, 2)]

    response = logged_in(tongzhou_manager).post(
        reverse("admin:tracking_target_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in others], "post": "yes"},
    )

    assert response.status_code == 302
    assert list(Target.objects.all()) == [songqingliang]
    assert ProgrammeTally.objects.get(pk=songqingliang.programme_id).targets == 1
    assert wrong_tallies() == []


def test_deleting_an_item_takes_its_targets_out_of_the_tally(songqingliang, superuser, logged_in):
    other = make_target(songqingliang.programme, number=5, code="5.1", name="职工疗休养")
    item = Item.objects.get(pk=other.item_id)

    response = logged_in(superuser).post(reverse("admin:tracking_item_delete", args=[item.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Target.objects.filter(pk=other.pk).exists()
    assert ProgrammeTally.objects.get(pk=songqingliang.programme_id).targets == 1
    assert wrong_tallies() == []


def test_deleting_a_programme_in_the_admin_takes_its_tally(songqingliang, superuser, logged_in):
    programme = songqingliang.programme

    response = logged_in(superuser).post(
        reverse("admin:tracking_programme_delete", args=[programme.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Programme.objects.filter(pk=programme.pk).exists()
    assert not ProgrammeTally.objects.filter(pk=programme.pk).exists()

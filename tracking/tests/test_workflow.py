"""The review workflow in tracking.services, shared by the admin and the API."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tracking import services
from tracking.workflow import WorkflowConflict
from tracking.models import ProgressReport, Target

S = ProgressReport.Status
JUNE = datetime.date(2024, 6, 30)


def progress(target):
    return Target.objects.with_progress().get(pk=target.pk).progress


@pytest.fixture
def draft(songqingliang, tongzhou_reporter):
    return services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=JUNE, value=Decimal("6000"))


def test_reporter_creates_a_draft_that_does_not_count(draft, songqingliang, tongzhou_reporter):
    assert (draft.status, draft.created_by) == (S.DRAFT, tongzhou_reporter)
    assert progress(songqingliang) is None


def test_submitted_then_approved_report_counts(draft, songqingliang, tongzhou_reporter, nantong_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)
    assert Target.objects.with_progress().get(pk=songqingliang.pk).pending_value == Decimal("6000")

    approved = services.approve_report(user=nantong_reviewer, report=draft)

    assert (approved.status, approved.reviewed_by) == (S.APPROVED, nantong_reviewer)
    assert approved.reviewed_at is not None
    assert progress(songqingliang) == Decimal("6000")


def test_returned_report_does_not_count_and_needs_a_note(draft, songqingliang, tongzhou_reporter, nantong_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)
    with pytest.raises(ValidationError):
        services.return_report(user=nantong_reviewer, report=draft, note=" ")

    services.return_report(user=nantong_reviewer, report=draft, note="数字与台账不符")

    draft.refresh_from_db()
    assert (draft.status, draft.review_note) == (S.RETURNED, "数字与台账不符")
    assert progress(songqingliang) is None


def test_reporter_cannot_edit_an_approved_report(draft, tongzhou_reporter, nantong_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)
    services.approve_report(user=nantong_reviewer, report=draft)

    with pytest.raises(WorkflowConflict):
        services.update_report(user=tongzhou_reporter, report=draft, value=Decimal("1"))
    assert ProgressReport.objects.get().value == Decimal("6000")


def test_reviewer_reopens_an_approved_report_with_a_note(draft, songqingliang, tongzhou_reporter, nantong_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)
    services.approve_report(user=nantong_reviewer, report=draft)

    services.return_report(user=nantong_reviewer, report=draft, note="请补充佐证材料")

    assert ProgressReport.objects.get().status == S.RETURNED
    assert progress(songqingliang) is None


def test_second_approval_of_the_same_report_is_a_conflict(draft, tongzhou_reporter, nantong_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)
    services.approve_report(user=nantong_reviewer, report=draft)

    with pytest.raises(WorkflowConflict):
        services.approve_report(user=nantong_reviewer, report=draft)


def test_reporter_cannot_approve(draft, tongzhou_reporter):
    services.submit_report(user=tongzhou_reporter, report=draft)

    with pytest.raises(PermissionDenied):
        services.approve_report(user=tongzhou_reporter, report=draft)
    assert ProgressReport.objects.get().status == S.SUBMITTED


def test_reviewer_of_another_city_cannot_approve(draft, tongzhou_reporter, zhenjiang_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)

    with pytest.raises(PermissionDenied):
        services.approve_report(user=zhenjiang_reviewer, report=draft)


def test_reporter_cannot_report_for_another_district(songqingliang, jingkou_reporter):
    with pytest.raises(PermissionDenied):
        services.create_report(user=jingkou_reporter, target=songqingliang, period_end=JUNE, value=Decimal("1"))
    assert ProgressReport.objects.count() == 0


def test_superuser_may_approve_a_draft_directly(draft, superuser, songqingliang):
    services.approve_report(user=superuser, report=draft)

    assert progress(songqingliang) == Decimal("6000")


def test_report_dated_outside_the_period_is_refused(songqingliang, tongzhou_reporter):
    with pytest.raises(ValidationError):
        services.create_report(
            user=tongzhou_reporter, target=songqingliang, period_end=datetime.date(2025, 1, 31), value=Decimal("1")
        )
    assert ProgressReport.objects.count() == 0


def test_every_step_is_in_the_history_with_its_user(draft, tongzhou_reporter, nantong_reviewer):
    services.submit_report(user=tongzhou_reporter, report=draft)
    services.approve_report(user=nantong_reviewer, report=draft)

    steps = [(h.status, h.history_user) for h in draft.history.order_by("history_date")]
    assert steps == [(S.DRAFT, tongzhou_reporter), (S.SUBMITTED, tongzhou_reporter), (S.APPROVED, nantong_reviewer)]

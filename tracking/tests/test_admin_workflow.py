"""The review workflow as clerks and reviewers drive it through the admin."""

import datetime
from decimal import Decimal

from django.contrib.messages import get_messages
from django.urls import reverse

from tracking.models import ProgressReport, Target

from .conftest import report

S = ProgressReport.Status
JUNE = datetime.date(2024, 6, 30)


def progress_of(target):
    return Target.objects.with_progress().get(pk=target.pk)


def change_url(report):
    return reverse("admin:tracking_progressreport_change", args=[report.pk])


def workflow(client, report, step, **data):
    return client.post(reverse("admin:tracking_progressreport_workflow", args=[report.pk]), {"step": step, **data})


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def new_report_inline(period_end="2024-06-30", value="6000", **extra):
    return {
        "reports-TOTAL_FORMS": "1", "reports-INITIAL_FORMS": "0", "reports-MIN_NUM_FORMS": "0",
        "reports-MAX_NUM_FORMS": "1000", "reports-0-period_end": period_end, "reports-0-value": value,
        "reports-0-qualifier": "exact", "reports-0-note": "", **extra,
    }


def test_reporter_adds_a_draft_from_the_target_page(songqingliang, tongzhou_reporter, logged_in, media_root):
    client = logged_in(tongzhou_reporter)

    response = client.post(reverse("admin:tracking_target_change", args=[songqingliang.pk]), new_report_inline())

    assert response.status_code == 302
    draft = ProgressReport.objects.get(target=songqingliang)
    assert (draft.value, draft.status, draft.created_by) == (Decimal("6000"), S.DRAFT, tongzhou_reporter)
    assert progress_of(songqingliang).progress is None


def test_target_page_refuses_a_report_dated_after_the_programme(songqingliang, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    response = client.post(
        reverse("admin:tracking_target_change", args=[songqingliang.pk]), new_report_inline(period_end="2025-01-31")
    )

    assert response.status_code == 200
    assert "不在计划期间" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_draft_submitted_then_approved_changes_progress(songqingliang, tongzhou_reporter, nantong_reviewer, logged_in):
    client = logged_in(tongzhou_reporter)
    response = client.post(
        reverse("admin:tracking_progressreport_add"),
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "6000", "qualifier": "exact",
         "note": "", "_submit": "1"},
    )
    assert response.status_code == 302
    submitted = ProgressReport.objects.get()
    assert submitted.status == S.SUBMITTED
    assert progress_of(songqingliang).progress is None
    assert progress_of(songqingliang).pending_value == Decimal("6000")

    response = workflow(logged_in(nantong_reviewer), submitted, "approve")

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.status, submitted.reviewed_by) == (S.APPROVED, nantong_reviewer)
    assert submitted.reviewed_at is not None
    target = progress_of(songqingliang)
    assert (target.progress, target.completion) == (Decimal("6000"), 50.0)


def test_returned_report_does_not_count(songqingliang, tongzhou_reporter, nantong_reviewer, logged_in):
    submitted = report(songqingliang, JUNE, 6000, status=S.SUBMITTED)

    response = workflow(logged_in(nantong_reviewer), submitted, "return", note="请附上照片")

    submitted.refresh_from_db()
    assert (submitted.status, submitted.review_note) == (S.RETURNED, "请附上照片")
    assert progress_of(songqingliang).progress is None
    assert "已退回" in " ".join(messages_of(response))


def test_returning_without_a_note_is_refused_with_a_message(songqingliang, nantong_reviewer, logged_in):
    submitted = report(songqingliang, JUNE, 6000, status=S.SUBMITTED)

    response = workflow(logged_in(nantong_reviewer), submitted, "return", note="  ")

    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert "退回时必须填写审核意见" in messages_of(response)


def test_reporter_cannot_edit_an_approved_report(songqingliang, tongzhou_reporter, logged_in):
    approved = report(songqingliang, JUNE, 6000)
    client = logged_in(tongzhou_reporter)

    page = client.get(change_url(approved))
    response = client.post(
        change_url(approved),
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "12000", "qualifier": "exact"},
    )

    assert page.status_code == 200 and 'name="value"' not in page.content.decode()
    assert response.status_code == 403
    approved.refresh_from_db()
    assert approved.value == Decimal("6000")
    assert progress_of(songqingliang).progress == Decimal("6000")


def test_reporter_cannot_delete_an_approved_report(songqingliang, tongzhou_reporter, logged_in):
    approved = report(songqingliang, JUNE, 6000)

    response = logged_in(tongzhou_reporter).post(
        reverse("admin:tracking_progressreport_delete", args=[approved.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ProgressReport.objects.filter(pk=approved.pk).exists()


def test_manager_cannot_submit_an_approved_report_again(songqingliang, tongzhou_manager, logged_in):
    approved = report(songqingliang, JUNE, 6000)

    response = workflow(logged_in(tongzhou_manager), approved, "submit")

    approved.refresh_from_db()
    assert approved.status == S.APPROVED
    assert "只有草稿或已退回的填报可以提交审核" in messages_of(response)


def test_only_a_reviewer_reopens_an_approved_report(songqingliang, tongzhou_manager, nantong_reviewer, logged_in):
    approved = report(songqingliang, JUNE, 6000)

    workflow(logged_in(tongzhou_manager), approved, "return", note="想改")
    approved.refresh_from_db()
    assert approved.status == S.APPROVED

    workflow(logged_in(nantong_reviewer), approved, "return", note="数据有误，请核实")
    approved.refresh_from_db()
    assert approved.status == S.RETURNED
    assert progress_of(songqingliang).progress is None


def test_reporter_edits_a_returned_report_and_submits_it_again(songqingliang, tongzhou_reporter, logged_in):
    returned = report(songqingliang, JUNE, 6000, status=S.RETURNED, review_note="请核实")
    client = logged_in(tongzhou_reporter)

    response = client.post(
        change_url(returned),
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "5800", "qualifier": "exact",
         "note": "已核实", "_submit": "1"},
    )

    assert response.status_code == 302
    returned.refresh_from_db()
    assert (returned.value, returned.note, returned.status) == (Decimal("5800"), "已核实", S.SUBMITTED)


def test_reviewer_sees_buttons_but_no_value_field(songqingliang, nantong_reviewer, logged_in):
    submitted = report(songqingliang, JUNE, 6000, status=S.SUBMITTED)

    page = logged_in(nantong_reviewer).get(change_url(submitted)).content.decode()

    assert 'value="approve"' in page and 'value="return"' in page
    assert 'name="value"' not in page


def test_reviewer_cannot_approve_a_draft_but_a_superuser_can(songqingliang, nantong_reviewer, superuser, logged_in):
    draft = report(songqingliang, JUNE, 6000, status=S.DRAFT)

    workflow(logged_in(nantong_reviewer), draft, "approve")
    draft.refresh_from_db()
    assert draft.status == S.DRAFT

    workflow(logged_in(superuser), draft, "approve")
    draft.refresh_from_db()
    assert (draft.status, draft.reviewed_by) == (S.APPROVED, superuser)


def test_zhenjiang_reviewer_cannot_approve_a_tongzhou_report(songqingliang, zhenjiang_reviewer, logged_in):
    submitted = report(songqingliang, JUNE, 6000, status=S.SUBMITTED)

    response = workflow(logged_in(zhenjiang_reviewer), submitted, "approve")

    assert response.status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def action(client, name, reports, **extra):
    return client.post(
        reverse("admin:tracking_progressreport_changelist"),
        {"action": name, "_selected_action": [r.pk for r in reports], "index": 0, **extra},
    )


def test_bulk_approval_approves_what_it_can_and_says_what_it_could_not(
    songqingliang, nantong_reviewer, logged_in
):
    first = report(songqingliang, datetime.date(2024, 3, 31), 3000, status=S.SUBMITTED)
    second = report(songqingliang, JUNE, 3000, status=S.SUBMITTED)
    draft = report(songqingliang, datetime.date(2024, 7, 31), 1000, status=S.DRAFT)

    response = action(logged_in(nantong_reviewer), "approve_reports", [first, second, draft])

    assert response.status_code == 302
    assert [r.status for r in ProgressReport.objects.order_by("period_end")] == [S.APPROVED, S.APPROVED, S.DRAFT]
    assert progress_of(songqingliang).progress == Decimal("6000")
    text = " ".join(messages_of(response))
    assert "已审核通过 2 条" in text and "1 条未处理" in text


def test_bulk_return_asks_for_a_note_first(songqingliang, nantong_reviewer, logged_in):
    submitted = report(songqingliang, JUNE, 6000, status=S.SUBMITTED)
    client = logged_in(nantong_reviewer)

    asked = action(client, "return_reports", [submitted])
    assert asked.status_code == 200 and "审核意见" in asked.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED

    done = client.post(
        reverse("admin:tracking_progressreport_changelist"),
        {"action": "return_reports", "_selected_action": [submitted.pk], "apply": "yes", "note": "请补充佐证"},
    )
    assert done.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.status, submitted.review_note) == (S.RETURNED, "请补充佐证")


def test_bulk_submit_is_offered_to_reporters_and_review_to_reviewers(
    songqingliang, tongzhou_reporter, nantong_reviewer, logged_in
):
    report(songqingliang, JUNE, 6000, status=S.DRAFT)
    changelist = reverse("admin:tracking_progressreport_changelist")

    def actions_for(user):
        return dict(logged_in(user).get(changelist).context["action_form"].fields["action"].choices)

    reporter_actions, reviewer_actions = actions_for(tongzhou_reporter), actions_for(nantong_reviewer)

    assert "submit_reports" in reporter_actions and "approve_reports" not in reporter_actions
    assert "approve_reports" in reviewer_actions and "submit_reports" not in reviewer_actions
    assert "delete_selected" not in reviewer_actions


def test_bulk_delete_refuses_when_an_approved_report_is_selected(songqingliang, tongzhou_reporter, logged_in):
    draft = report(songqingliang, datetime.date(2024, 3, 31), 100, status=S.DRAFT)
    approved = report(songqingliang, JUNE, 6000)
    client = logged_in(tongzhou_reporter)

    response = client.post(
        reverse("admin:tracking_progressreport_changelist"),
        {"action": "delete_selected", "_selected_action": [draft.pk, approved.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert ProgressReport.objects.count() == 2


def test_bulk_delete_of_drafts_goes_through_the_service(songqingliang, tongzhou_reporter, logged_in):
    draft = report(songqingliang, datetime.date(2024, 3, 31), 100, status=S.DRAFT)

    response = logged_in(tongzhou_reporter).post(
        reverse("admin:tracking_progressreport_changelist"),
        {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not ProgressReport.objects.exists()
    assert draft.history.latest().history_type == "-"


def test_pending_values_are_shown_but_marked_pending(songqingliang, tongzhou_reporter, logged_in):
    report(songqingliang, datetime.date(2024, 3, 31), 3000)
    report(songqingliang, JUNE, 2000, status=S.SUBMITTED)
    client = logged_in(tongzhou_reporter)

    targets = client.get(reverse("admin:tracking_target_changelist")).content.decode()
    reports = client.get(reverse("admin:tracking_progressreport_changelist")).content.decode()

    assert "3,000 名" in targets and "+2,000" in targets and "待审" in targets
    assert "2,000 名（待审）" in reports


def test_target_page_shows_progress_and_expected_progress(songqingliang, tongzhou_reporter, logged_in):
    report(songqingliang, JUNE, 6000)
    expected = progress_of(songqingliang).expected

    page = logged_in(tongzhou_reporter).get(
        reverse("admin:tracking_target_change", args=[songqingliang.pk])
    ).content.decode()

    assert "6,000 名" in page and "50%" in page
    assert f"{expected:.0f}%" in page
    assert "按时间今天应完成" in page


def test_submit_button_on_the_target_page_submits_the_draft(songqingliang, tongzhou_reporter, logged_in):
    draft = report(songqingliang, JUNE, 6000, status=S.DRAFT)
    client = logged_in(tongzhou_reporter)
    target_url = reverse("admin:tracking_target_change", args=[songqingliang.pk])

    assert 'value="submit"' in client.get(target_url).content.decode()
    response = client.post(
        reverse("admin:tracking_progressreport_workflow", args=[draft.pk]) + f"?next={target_url}", {"step": "submit"}
    )

    assert response["Location"] == target_url
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED


def test_workflow_does_not_redirect_to_another_site(songqingliang, tongzhou_reporter, logged_in):
    draft = report(songqingliang, JUNE, 6000, status=S.DRAFT)

    response = logged_in(tongzhou_reporter).post(
        reverse("admin:tracking_progressreport_workflow", args=[draft.pk]) + "?next=https://evil.example/",
        {"step": "submit"},
    )

    assert response["Location"] == change_url(draft)


def test_history_records_who_changed_a_report(songqingliang, tongzhou_reporter, nantong_reviewer, logged_in):
    client = logged_in(tongzhou_reporter)
    client.post(
        reverse("admin:tracking_progressreport_add"),
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "6000", "qualifier": "exact", "_submit": "1"},
    )
    submitted = ProgressReport.objects.get()
    workflow(logged_in(nantong_reviewer), submitted, "approve")

    history = list(submitted.history.order_by("history_date").values_list("status", "history_user__username"))
    page = logged_in(nantong_reviewer).get(
        reverse("admin:tracking_progressreport_history", args=[submitted.pk])
    )

    assert history == [
        (S.DRAFT, "tongzhou_reporter"), (S.SUBMITTED, "tongzhou_reporter"), (S.APPROVED, "nantong_reviewer"),
    ]
    assert page.status_code == 200 and "nantong_reviewer" in page.content.decode()

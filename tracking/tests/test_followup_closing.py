"""Closed periods: a reviewer closes, nothing can then be entered, changed, imported or submitted there
(through the admin, the API or an import), and a reopening with a reason is kept."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking.followup import closing
from tracking.models import PeriodClosure, ProgressReport

from .conftest import D, S, report
from .test_admin_workflow import new_report_inline, workflow

FIRST_QUARTER = (D(2024, 1, 1), D(2024, 3, 31))


def snapshot():
    return list(ProgressReport.objects.order_by("pk").values_list("pk", "period_end", "value", "status", "note"))


@pytest.fixture
def first_quarter_closed(nantong_reviewer, songqingliang):
    return closing.close_period(
        user=nantong_reviewer, region=songqingliang.programme.region.parent, start=FIRST_QUARTER[0],
        end=FIRST_QUARTER[1], reason="一季度数据已通报", subtree=True,
    )


def test_a_city_reviewer_closes_a_period_for_every_region_under_the_city(first_quarter_closed):
    assert sorted(c.region_id for c in first_quarter_closed) == ["320600", "320612"]
    assert {(c.closed_by.username, c.reason) for c in first_quarter_closed} == {("nantong_reviewer", "一季度数据已通报")}


def test_closing_twice_adds_nothing(first_quarter_closed, nantong_reviewer, regions):
    again = closing.close_period(user=nantong_reviewer, region=regions["320600"], start=D(2024, 1, 1), end=D(2024, 3, 31),
                                 subtree=True)
    assert again == [] and PeriodClosure.objects.count() == 2


def test_a_reporter_or_another_citys_reviewer_cannot_close(tongzhou_reporter, zhenjiang_reviewer, regions):
    for user in (tongzhou_reporter, zhenjiang_reviewer):
        with pytest.raises(PermissionDenied):
            closing.close_period(user=user, region=regions["320612"], start=D(2024, 1, 1), end=D(2024, 3, 31))
    assert not PeriodClosure.objects.exists()


def test_the_api_refuses_a_new_report_in_a_closed_period(first_quarter_closed, api, tongzhou_reporter, songqingliang):
    before = snapshot()
    response = api(tongzhou_reporter).post(
        "/api/v1/progress-reports/", {"target": songqingliang.pk, "period_end": "2024-03-31", "value": "100"}, format="json"
    )
    assert response.status_code == 400
    assert "已关闭" in str(response.json())
    assert snapshot() == before


def test_the_api_refuses_to_submit_or_change_a_draft_in_a_closed_period(
    songqingliang, api, tongzhou_reporter, nantong_reviewer
):
    draft = report(songqingliang, D(2024, 2, 29), 100, status=S.DRAFT)
    closing.close_period(user=nantong_reviewer, region=songqingliang.programme.region, start=D(2024, 1, 1), end=D(2024, 3, 31))
    before = snapshot()
    client = api(tongzhou_reporter)
    assert client.post(f"/api/v1/progress-reports/{draft.pk}/submit/").status_code == 400
    assert client.patch(f"/api/v1/progress-reports/{draft.pk}/", {"value": "5"}, format="json").status_code == 400
    assert client.delete(f"/api/v1/progress-reports/{draft.pk}/").status_code == 400
    # Nor moved out of the closed period into an open one.
    assert client.patch(
        f"/api/v1/progress-reports/{draft.pk}/", {"period_end": "2024-04-30"}, format="json"
    ).status_code == 400
    assert snapshot() == before


def test_the_admin_refuses_a_new_report_and_a_submission_in_a_closed_period(
    songqingliang, tongzhou_reporter, nantong_reviewer, logged_in
):
    draft = report(songqingliang, D(2024, 2, 29), 100, status=S.DRAFT)
    closing.close_period(user=nantong_reviewer, region=songqingliang.programme.region, start=D(2024, 1, 1), end=D(2024, 3, 31))
    before = snapshot()
    client = logged_in(tongzhou_reporter)
    response = client.post(
        reverse("admin:tracking_target_change", args=[songqingliang.pk]), new_report_inline(period_end="2024-03-15"),
        follow=True,
    )
    assert "已关闭" in response.content.decode()
    response = client.post(
        reverse("admin:tracking_progressreport_workflow", args=[draft.pk]), {"step": "submit"}, follow=True
    )
    assert "已关闭" in response.content.decode()
    assert snapshot() == before


def test_an_import_into_a_closed_period_is_refused_row_by_row_and_changes_nothing(
    first_quarter_closed, api, tongzhou_reporter
):
    text = "地区代码,年度,计划类型,事项序号,指标编号,截至日期,数值\n320612,2024,annual_plan,4,4.1,2024-04-30,10\n" \
           "320612,2024,annual_plan,4,4.1,2024-03-31,10\n"
    file = SimpleUploadedFile("r.csv", text.encode("utf-8-sig"), content_type="text/csv")
    response = api(tongzhou_reporter).post("/api/v1/progress-reports/import/", {"file": file}, format="multipart")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["row"] == 3 and "已关闭" in error["message"]
    assert not ProgressReport.objects.exists()


def test_a_submitted_report_is_still_reviewed_but_an_approved_one_is_not_reopened(
    songqingliang, nantong_reviewer, logged_in
):
    submitted = report(songqingliang, D(2024, 1, 31), 100, status=S.SUBMITTED)
    approved = report(songqingliang, D(2024, 2, 29), 100, status=S.APPROVED)
    closing.close_period(user=nantong_reviewer, region=songqingliang.programme.region, start=D(2024, 1, 1), end=D(2024, 3, 31))
    client = logged_in(nantong_reviewer)
    workflow(client, submitted, "approve")
    workflow(client, approved, "return", note="数据有误")
    assert list(ProgressReport.objects.order_by("period_end").values_list("status", flat=True)) == [S.APPROVED, S.APPROVED]


def test_reopening_needs_a_reason_and_is_kept(first_quarter_closed, nantong_reviewer, tongzhou_reporter, songqingliang):
    tongzhou = next(c for c in first_quarter_closed if c.region_id == "320612")
    with pytest.raises(ValidationError):
        closing.reopen_period(user=nantong_reviewer, closure=tongzhou, reason=" ")
    with pytest.raises(PermissionDenied):
        closing.reopen_period(user=tongzhou_reporter, closure=tongzhou, reason="补报")
    closing.reopen_period(user=nantong_reviewer, closure=tongzhou, reason="通州区补报三月数据")
    tongzhou.refresh_from_db()
    assert (tongzhou.reopened_by, tongzhou.reopen_reason) == (nantong_reviewer, "通州区补报三月数据")
    assert tongzhou.reopened_at is not None
    from tracking import services
    services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 3, 31), value=5)
    assert ProgressReport.objects.count() == 1


def test_a_period_closes_by_itself_after_the_expiry_days_when_switched_on(settings, songqingliang, tongzhou_reporter):
    from tracking import services
    settings.TRACKING_CLOSE_AFTER_DAYS = 10
    # January is due 5 February and closes after 15 February; it is later than that "today" (2024 is past).
    with pytest.raises(ValidationError):
        services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 1, 31), value=5)
    assert closing.closed_rows([("320612", D(2024, 1, 31), songqingliang.programme)], today=D(2024, 2, 15)) == {}
    assert closing.closed_rows([("320612", D(2024, 1, 31), songqingliang.programme)], today=D(2024, 2, 16)) == {
        0: (D(2024, 1, 1), D(2024, 1, 31)),
    }
    settings.TRACKING_CLOSE_AFTER_DAYS = 0
    services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 1, 31), value=5)
    assert ProgressReport.objects.count() == 1

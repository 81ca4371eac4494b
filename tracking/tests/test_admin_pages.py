"""What the admin's pages say to a clerk and a reviewer: order, numbers, titles, messages, history, lockout.

test_screens.py looks at the same pages in a browser; these check the
responses and the database, quickly and on both databases.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from tracking import progress, services, totals
from tracking.models import Item, ProgressReport, Target

from .conftest import make_target, report
from .test_admin_workflow import messages_of, new_report_inline

D = datetime.date
S = ProgressReport.Status
AUTOCOMPLETE = reverse("admin:autocomplete")


def autocomplete(client, term="", **extra):
    query = {"app_label": "tracking", "model_name": "progressreport", "field_name": "target", "term": term, **extra}
    return client.get(AUTOCOMPLETE, query)


# --- The index ---------------------------------------------------------------------------


def test_the_index_lists_the_tracker_first_in_the_order_of_the_work(tongzhou_reporter, logged_in):
    response = logged_in(tongzhou_reporter).get(reverse("admin:index"))

    apps = response.context["app_list"]
    assert apps[0]["app_label"] == "tracking"
    assert [m["object_name"] for m in apps[0]["models"]] == [
        "ProgressReport", "Target", "Programme", "Item", "Message", "PeriodClosure", "Region",
    ]
    assert "axes" not in [app["app_label"] for app in apps]


def test_the_login_records_are_for_superusers_and_named_in_chinese(superuser, logged_in):
    response = logged_in(superuser).get(reverse("admin:index"))

    apps = {app["app_label"]: app for app in response.context["app_list"]}
    assert list(apps)[0] == "tracking" and list(apps)[-1] == "axes"
    assert str(apps["axes"]["name"]) == "登录安全"
    assert {str(m["name"]) for m in apps["axes"]["models"]} == {"登录失败记录", "登录失败日志", "登录日志"}
    assert "Access attempts" not in response.content.decode()


# --- The add-report form's target search ---------------------------------------------------


def test_the_target_search_answers_a_tongzhou_reporter_with_tongzhou_targets(
    songqingliang, jingkou_target, tongzhou_reporter, logged_in
):
    response = autocomplete(logged_in(tongzhou_reporter), "送清")

    assert response.status_code == 200
    assert response.json() == {
        "results": [{"id": str(songqingliang.pk), "text": "通州区 2024 年度计划 · 4.1 送清凉"}],
        "pagination": {"more": False},
    }


def test_the_target_search_never_shows_a_jingkou_reporter_a_tongzhou_target(
    songqingliang, jingkou_target, jingkou_reporter, logged_in
):
    client = logged_in(jingkou_reporter)

    everything = autocomplete(client).json()["results"]
    by_name = autocomplete(client, "送清凉").json()["results"]
    by_code = autocomplete(client, "4.1").json()["results"]

    assert [r["id"] for r in everything] == [str(jingkou_target.pk)]
    assert by_name == [] and by_code == []


def test_the_target_search_finds_by_code_and_by_region_and_pages_by_twenty(
    tongzhou_plan, songqingliang, nantong_reviewer, tongzhou_reporter, logged_in
):
    for n in range(1, 26):
        make_target(tongzhou_plan, number=10 + n, code=f"{10 + n}.2", name=f"指标{n}")
    client = logged_in(tongzhou_reporter)

    assert [r["text"] for r in autocomplete(client, "4.1").json()["results"]] == ["通州区 2024 年度计划 · 4.1 送清凉"]
    assert len(autocomplete(client, "通州 送清凉").json()["results"]) == 1
    first = autocomplete(client).json()
    assert len(first["results"]) == 20 and first["pagination"]["more"] is True


@pytest.mark.parametrize("count", [5, 60])
def test_the_target_search_makes_a_fixed_number_of_queries(
    tongzhou_plan, tongzhou_reporter, logged_in, count, django_assert_max_num_queries
):
    for n in range(count):
        make_target(tongzhou_plan, number=n + 1, code=f"{n + 1}.1", name=f"指标{n}")
    client = logged_in(tongzhou_reporter)
    autocomplete(client)

    # Session, user, permissions, scope, count and the page's rows with their programmes and regions.
    with django_assert_max_num_queries(6):
        assert len(autocomplete(client).json()["results"]) == min(count, 20)


def test_the_add_report_form_offers_a_search_not_a_list_of_every_target(songqingliang, tongzhou_reporter, logged_in):
    page = logged_in(tongzhou_reporter).get(reverse("admin:tracking_progressreport_add")).content.decode()

    assert 'class="admin-autocomplete' in page and 'data-model-name="progressreport"' in page
    assert "送清凉" not in page


def test_a_foreign_target_posted_to_the_add_form_is_refused(songqingliang, jingkou_reporter, logged_in):
    response = logged_in(jingkou_reporter).post(
        reverse("admin:tracking_progressreport_add"),
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "1", "qualifier": "exact"},
    )

    assert response.status_code == 200 and response.context["adminform"].form.errors["target"]
    assert not ProgressReport.objects.exists()


# --- Numbers and words ---------------------------------------------------------------------


def test_a_report_is_named_in_chinese_with_its_date_and_figure(songqingliang):
    assert str(report(songqingliang, D(2024, 6, 30), 6000)) == "4.1 送清凉（2024-06-30，6,000 名）"
    rate = make_target(songqingliang.programme, number=6, code="6.1", name="建会率", target_value="95", unit="%")
    assert str(report(rate, D(2024, 6, 30), "96.5")) == "6.1 建会率（2024-06-30，96.5%）"


def test_a_second_report_for_the_same_date_is_refused_as_a_person_would_say_it(api, songqingliang, tongzhou_reporter):
    client = api(tongzhou_reporter)
    body = {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "1"}
    assert client.post("/api/v1/progress-reports/", body).status_code == 201

    response = client.post("/api/v1/progress-reports/", {**body, "value": "2"})

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["该指标在 2024-06-30 已有一条填报，请修改那一条"]}
    assert list(ProgressReport.objects.values_list("value", flat=True)) == [Decimal("1")]


def test_duplicate_codes_and_item_numbers_are_refused_in_plain_words(songqingliang):
    with pytest.raises(ValidationError) as code:
        Target(programme=songqingliang.programme, item=songqingliang.item, code="4.1", name="又一个", unit="名").full_clean()
    with pytest.raises(ValidationError) as number:
        Item(programme=songqingliang.programme, number=4, title="又一个", category="services").full_clean()

    assert code.value.messages == ["该计划已有编号为 4.1 的指标"]
    assert number.value.messages == ["该计划已有序号为 4 的事项"]


def test_a_reporter_reads_the_target_value_as_a_person_writes_it(songqingliang, tongzhou_reporter, logged_in):
    page = logged_in(tongzhou_reporter).get(reverse("admin:tracking_target_change", args=[songqingliang.pk]))

    text = page.content.decode()
    assert "12,000 名" in text and "12000.0000" not in text
    assert page.context["title"] == "填报进度"


def test_a_manager_edits_the_target_value_without_trailing_zeros(songqingliang, tongzhou_manager, logged_in):
    page = logged_in(tongzhou_manager).get(reverse("admin:tracking_target_change", args=[songqingliang.pk]))

    assert 'name="target_value" value="12000"' in page.content.decode()
    assert page.context["title"] == "修改 指标"


def test_a_report_page_shows_the_value_without_trailing_zeros(songqingliang, tongzhou_reporter, nantong_reviewer,
                                                              logged_in):
    draft = report(songqingliang, D(2024, 6, 30), "6000.5", status=S.SUBMITTED, created_by=tongzhou_reporter)

    text = logged_in(nantong_reviewer).get(reverse("admin:tracking_progressreport_change", args=[draft.pk]))
    text = text.content.decode()

    assert "6,000.5 名" in text and "6000.5000" not in text


# --- Messages and titles -------------------------------------------------------------------


def test_adding_a_report_from_the_target_page_says_so_and_not_that_the_target_changed(
    songqingliang, tongzhou_reporter, logged_in, media_root
):
    client = logged_in(tongzhou_reporter)
    page = reverse("admin:tracking_target_change", args=[songqingliang.pk])

    response = client.post(page, {**new_report_inline(), "_continue": "1"})

    assert response.status_code == 302 and response["Location"] == page
    assert messages_of(response) == ["已新增填报“4.1 送清凉（2024-06-30，6,000 名）”。它是草稿：提交审核并通过后才计入进度"]
    assert ProgressReport.objects.get().status == S.DRAFT


def test_saving_the_target_page_without_a_report_says_nothing_was_changed(songqingliang, tongzhou_reporter, logged_in):
    response = logged_in(tongzhou_reporter).post(
        reverse("admin:tracking_target_change", args=[songqingliang.pk]), new_report_inline(period_end="", value="")
    )

    assert messages_of(response) == ["没有填写新的填报，未做修改"]
    assert not ProgressReport.objects.exists()


def test_a_manager_who_changes_the_target_is_told_it_changed(songqingliang, tongzhou_manager, logged_in):
    data = {
        "code": "4.1", "name": "送清凉（夏季）", "unit": "名", "target_value": "12000", "measure": "count",
        "aggregation": "sum", "due_date": "2024-12-31", **new_report_inline(period_end="", value=""),
    }

    response = logged_in(tongzhou_manager).post(reverse("admin:tracking_target_change", args=[songqingliang.pk]), data)

    assert response.status_code == 302
    assert "成功修改" in messages_of(response)[0]
    assert Target.objects.get(pk=songqingliang.pk).name == "送清凉（夏季）"


def test_save_and_submit_says_it_was_submitted(songqingliang, tongzhou_reporter, logged_in):
    response = logged_in(tongzhou_reporter).post(
        reverse("admin:tracking_progressreport_add"),
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "6000", "qualifier": "exact", "_submit": "1"},
    )

    assert messages_of(response) == ["已提交审核：4.1 送清凉（2024-06-30，6,000 名）"]
    assert ProgressReport.objects.get().status == S.SUBMITTED


def test_the_report_page_shows_when_it_was_submitted_in_local_time_read_only(
    songqingliang, tongzhou_reporter, nantong_reviewer, logged_in
):
    # 02:30 UTC is 10:30 in Beijing.
    submitted = report(songqingliang, D(2024, 6, 30), 6000, status=S.SUBMITTED, created_by=tongzhou_reporter,
                       submitted_at=datetime.datetime(2024, 7, 3, 2, 30, tzinfo=datetime.UTC))
    draft = report(songqingliang, D(2024, 7, 31), 100, status=S.DRAFT, created_by=tongzhou_reporter)

    page = logged_in(nantong_reviewer).get(reverse("admin:tracking_progressreport_change", args=[submitted.pk]))
    never = logged_in(tongzhou_reporter).get(reverse("admin:tracking_progressreport_change", args=[draft.pk]))

    text = page.content.decode()
    assert "报送时间" in text and "2024年7月3日 10:30" in text
    assert "submitted_at" not in page.context["adminform"].form.fields
    assert "submitted_at" not in never.context["adminform"].form.fields
    assert "报送时间" in never.content.decode() and '<div class="readonly">None</div>' not in never.content.decode()


def test_the_reviewer_sees_what_approving_would_bring_and_a_returned_note_first(
    songqingliang, tongzhou_reporter, nantong_reviewer, logged_in
):
    report(songqingliang, D(2024, 3, 31), 2000)
    submitted = report(songqingliang, D(2024, 6, 30), 6000, status=S.SUBMITTED, created_by=tongzhou_reporter)
    client = logged_in(nantong_reviewer)

    page = client.get(reverse("admin:tracking_progressreport_change", args=[submitted.pk]))
    services.return_report(user=nantong_reviewer, report=submitted, note="请附上照片")
    returned = client.get(reverse("admin:tracking_progressreport_change", args=[submitted.pk])).content.decode()

    figures = page.context["review"]
    assert (figures["target_value"], figures["progress"], figures["value"], figures["after"]) == (
        "12,000 名", "2,000 名", "6,000 名", "8,000 名")
    assert round(figures["after_completion"]) == 67
    assert page.context["title"] == "审核填报"
    text = page.content.decode()
    assert text.index('value="approve"') < text.index('id="progressreport_form"')
    assert returned.index("请附上照片") < returned.index('id="progressreport_form"')


@pytest.mark.parametrize(
    ("aggregation", "dated", "expected"),
    [
        ("sum", D(2024, 6, 30), Decimal("8000")),
        ("latest", D(2024, 6, 30), Decimal("6000")),
        # An earlier report of a `latest` target changes nothing once a later one counts.
        ("latest", D(2024, 2, 29), Decimal("2000")),
    ],
)
def test_what_a_report_would_bring_follows_the_progress_rule(songqingliang, aggregation, dated, expected):
    Target.objects.filter(pk=songqingliang.pk).update(aggregation=aggregation)
    report(songqingliang, D(2024, 3, 31), 2000)
    pending = report(songqingliang, dated, 6000, status=S.SUBMITTED)
    target = Target.objects.with_progress().get(pk=songqingliang.pk)

    brought = progress.progress_once_counted(target, pending)
    ProgressReport.objects.filter(pk=pending.pk).update(status=S.APPROVED)
    totals.refresh([songqingliang.pk])

    assert brought == expected == Target.objects.with_progress().get(pk=songqingliang.pk).progress


# --- History -------------------------------------------------------------------------------


@pytest.fixture
def a_returned_report(songqingliang, tongzhou_reporter, nantong_reviewer):
    draft = services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 6, 30), value=6000)
    services.submit_report(user=tongzhou_reporter, report=draft)
    services.approve_report(user=nantong_reviewer, report=draft)
    services.return_report(user=nantong_reviewer, report=draft, note="数字有误")
    return draft


def test_a_targets_history_tells_what_happened_to_its_reports(songqingliang, a_returned_report, tongzhou_reporter,
                                                              logged_in):
    page = logged_in(tongzhou_reporter).get(reverse("admin:tracking_target_history", args=[songqingliang.pk]))

    events = [(e.get("subject", "指标"), e["action"], e["who"]) for e in page.context["events"]]
    assert events == [
        ("2024-06-30 · 6,000 名", "重新打开（退回）", "nantong_reviewer"),
        ("2024-06-30 · 6,000 名", "审核通过", "nantong_reviewer"),
        ("2024-06-30 · 6,000 名", "提交审核", "tongzhou_reporter"),
        ("2024-06-30 · 6,000 名", "新增进度填报", "tongzhou_reporter"),
        ("指标", "新增指标", "—"),
    ]
    assert "该记录对象没有修改的记录" not in page.content.decode()


def test_a_reports_history_reads_in_chinese_and_local_time(a_returned_report, tongzhou_reporter, logged_in):
    page = logged_in(tongzhou_reporter).get(reverse("admin:tracking_progressreport_history", args=[a_returned_report.pk]))

    latest = page.context["events"][0]
    assert latest["changes"] == [("状态", "已通过", "已退回"), ("审核意见", "—", "数字有误")]
    text = page.content.decode()
    for machine in ("None", "Deleted", "approved", "returned", "CHANGES", "修改原因", "+00:00"):
        assert machine not in text
    history = a_returned_report.history.latest()
    local = history.history_date.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M") in text


@pytest.mark.parametrize("count", [2, 40])
def test_a_targets_history_makes_a_fixed_number_of_queries(
    songqingliang, tongzhou_reporter, nantong_reviewer, logged_in, count, django_assert_max_num_queries
):
    for n in range(count):
        draft = services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 1, 1 + n % 28)
                                       + datetime.timedelta(days=31 * (n // 28)), value=n + 1)
        services.submit_report(user=tongzhou_reporter, report=draft)
        services.approve_report(user=nantong_reviewer, report=draft)
    client = logged_in(tongzhou_reporter)
    url = reverse("admin:tracking_target_history", args=[songqingliang.pk])
    client.get(url)

    # Session, user, permissions, the target and its scope; its versions, its reports' versions,
    # the users and items they name, and which reports still exist.
    with django_assert_max_num_queries(10):
        response = client.get(url)

    assert len(response.context["events"]) == 3 * count + 1


# --- Lockout -------------------------------------------------------------------------------


def test_the_admins_lockout_page_is_styled_like_the_admin_and_says_how_long_to_wait(tongzhou_reporter, client,
                                                                                     settings):
    tongzhou_reporter.is_staff = True
    tongzhou_reporter.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("admin:login"), {"username": "tongzhou_reporter", "password": "guess"},
                               REMOTE_ADDR="10.0.0.7")

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "请 <strong>15 分钟</strong>后再试" in text
    assert "admin/css/login.css" in text and "职工实事跟踪 · 管理后台" in text


def test_an_administrator_unlocks_an_account_with_axes_reset_username(tongzhou_reporter, client, settings):
    tongzhou_reporter.is_staff = True
    tongzhou_reporter.save()
    login = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "tongzhou_reporter", "password": "guess"}, REMOTE_ADDR="10.0.0.7")
    assert client.post(login, {"username": "tongzhou_reporter", "password": "pw-tongzhou_reporter"},
                       REMOTE_ADDR="10.0.0.7").status_code == 429

    call_command("axes_reset_username", "tongzhou_reporter", stdout=io.StringIO())

    response = client.post(login, {"username": "tongzhou_reporter", "password": "pw-tongzhou_reporter"},
                           REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_the_target_page_shows_a_returned_reports_note_beside_it(songqingliang, tongzhou_reporter, nantong_reviewer,
                                                                 logged_in):
    submitted = report(songqingliang, D(2024, 6, 30), 6000, status=S.SUBMITTED, created_by=tongzhou_reporter)
    services.return_report(user=nantong_reviewer, report=submitted, note="请附上照片")

    page = logged_in(tongzhou_reporter).get(reverse("admin:tracking_target_change", args=[songqingliang.pk]))

    assert '<span class="tt-returned-note">退回意见：请附上照片</span>' in page.content.decode()

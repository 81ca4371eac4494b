"""The admin's extraction page: a manager pastes a report, reviews the figures and saves a draft programme."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking.models import Item, Programme, ProgressReport, Target

URL = reverse("admin:tracking_programme_extract")
REPORT = (
    "通州区总工会2023年工作总结\n\n"
    "一、服务职工\n\n全年走访慰问困难职工1613户，发放慰问金约335万元，为1.2万名一线职工送清凉。\n\n"
    "二、组织建设\n\n新建基层工会44家，新发展会员3093人，建会率达98.5%。\n"
)
FORM = {"region": "320612", "kind": "annual_report", "year": "2023", "text": REPORT}


def counts():
    return [model.objects.count() for model in (Programme, Item, Target, ProgressReport)]


def review(client, **changes):
    return client.post(URL, {**FORM, "_extract": "1", **changes})


def save_form(page, **changes):
    """What the review page posts back when saved as shown, with some fields changed."""
    context = page.context
    data = {**context["hidden"], "text": context["text"], "title": context["proposal"].title, "_save": "1"}
    for index, item in context["items"]:
        data[f"item-{index}-title"] = item.title
        data[f"item-{index}-category"] = item.category
    for row in context["rows"]:
        i, figure = row["index"], row["figure"]
        data.update({f"fig-{i}-value": row["value"], f"fig-{i}-unit": figure.unit, f"fig-{i}-name": figure.name,
                     f"fig-{i}-qualifier": figure.qualifier, f"fig-{i}-item": figure.item})
        if figure.selected:
            data[f"fig-{i}-keep"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_review_page_marks_each_figure_in_the_text_and_writes_nothing(regions, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)

    page = review(client)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<mark id="mark-0" class="tt-fig" data-fig="0">1613户</mark>' in html
    assert [f.written for f in page.context["proposal"].figures] == ["1613户", "335万元", "1.2万名", "44家", "3093人", "98.5%"]
    assert [title for _, title in [(i, item.title) for i, item in page.context["items"]]] == ["服务职工", "组织建设"]
    assert counts() == [0, 0, 0, 0]


def test_saving_creates_a_draft_programme_without_the_unticked_figure(regions, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)
    page = review(client)

    saved = client.post(URL, save_form(page, **{"fig-1-keep": None}))

    assert saved.status_code == 302
    assert saved["Location"].startswith(reverse("admin:tracking_progressreport_changelist"))
    programme = Programme.objects.get()
    assert (programme.region_id, programme.year, programme.kind) == ("320612", 2023, "annual_report")
    reports = ProgressReport.objects.order_by("target__code")
    assert [(r.target.code, r.value, r.target.unit, r.qualifier) for r in reports] == [
        ("1.1", Decimal("1613"), "户", "exact"),
        ("1.2", Decimal("12000"), "名", "exact"),
        ("2.1", Decimal("44"), "家", "exact"),
        ("2.2", Decimal("3093"), "人", "exact"),
        ("2.3", Decimal("98.5"), "%", "exact"),
    ]
    assert {r.status for r in reports} == {ProgressReport.Status.DRAFT}
    assert {r.created_by for r in reports} == {tongzhou_manager}
    assert all(r.source_quote in REPORT for r in reports)
    assert not Target.objects.filter(target_value__isnull=False).exists()


def test_a_figure_can_be_edited_and_moved_to_another_item(regions, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)
    page = review(client)

    client.post(URL, save_form(page, **{"fig-0-value": "1.7千", "fig-0-name": "慰问困难职工家庭", "fig-0-item": "1",
                                        "fig-0-qualifier": "at_least"}))

    moved = Target.objects.get(name="慰问困难职工家庭")
    assert moved.item.number == 2 and moved.item.title == "组织建设"
    report = moved.reports.get()
    assert (report.value, report.qualifier) == (Decimal("1700"), "at_least")


def test_a_wrong_edit_is_explained_and_nothing_is_written(regions, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)
    page = review(client)

    refused = client.post(URL, save_form(page, **{"fig-0-value": "很多"}))

    assert refused.status_code == 400
    assert "第 1 个数字（1613户）：“很多”不是有效的数字" in refused.content.decode()
    assert counts() == [0, 0, 0, 0]


def test_the_same_programme_twice_is_refused_and_the_first_is_untouched(regions, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)
    client.post(URL, save_form(review(client)))
    first = counts()

    again = client.post(URL, save_form(review(client)))

    assert again.status_code == 400
    assert "该地区 2023 年已有同类计划" in again.content.decode()
    assert counts() == first


def test_a_reporter_may_not_use_the_page(regions, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    assert client.get(URL).status_code == 403
    assert review(client).status_code == 403
    assert counts() == [0, 0, 0, 0]


def test_a_jingkou_manager_cannot_save_for_tongzhou(regions, jingkou_manager, logged_in):
    client = logged_in(jingkou_manager)

    response = review(client)

    assert response.status_code == 400
    assert "320612" not in [str(r.pk) for r in response.context["form"].fields["region"].queryset]
    assert counts() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": "   "}, "文本为空，请粘贴或上传报告全文"),
        ({"text": "职工" * (1024 * 1024 // 6)}, "文本过长"),
        ({"text": "", "file": SimpleUploadedFile("report.doc", b"\xd0\xcf\x11\xe0\x00\x00binary")}, "文件不是文本"),
    ],
    ids=["empty text", "1 MB of text", "a binary file"],
)
def test_bad_input_is_explained_in_chinese_and_nothing_is_written(regions, tongzhou_manager, logged_in, changes, message):
    client = logged_in(tongzhou_manager)

    response = review(client, **changes)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == [0, 0, 0, 0]


def test_the_programme_list_links_to_the_page(regions, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)

    page = client.get(reverse("admin:tracking_programme_changelist"))

    assert URL in page.content.decode()

"""English for our own strings: Chinese stays the default, `en` is there for whoever asks.

The catalogue is tracking/locale/en/LC_MESSAGES/django.po (compiled to django.mo);
API clients ask with Accept-Language, admin users with their browser's language
or the django_language cookie.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tracking.importing import parse_value
from tracking.models import ProgressReport, Target

REPORTS = "/api/v1/progress-reports/"
TARGETS = "/api/v1/targets/"
PO_FILE = Path(settings.BASE_DIR) / "tracking" / "locale" / "en" / "LC_MESSAGES" / "django.po"


# --- the API ---------------------------------------------------------------------------


def test_a_negative_value_is_refused_in_chinese_by_default(api, tongzhou_reporter, songqingliang):
    response = api(tongzhou_reporter).post(REPORTS, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "-1"})

    assert response.status_code == 400
    assert response.json() == {"value": ["数值不能为负数"]}
    assert not ProgressReport.objects.exists()


def test_a_negative_value_is_refused_in_english_when_the_client_asks_for_english(api, tongzhou_reporter, songqingliang):
    response = api(tongzhou_reporter).post(
        REPORTS, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "-1"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json() == {"value": ["Value cannot be negative"]}
    assert response["Content-Language"] == "en"
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (None, "日期 2023-06-30 不在计划期间 2024-01-01 至 2024-12-31 内"),
        ("en", "Date 2023-06-30 is outside the plan period 2024-01-01 to 2024-12-31"),
    ],
)
def test_a_date_outside_the_plan_period_is_explained_in_the_language_asked_for(
    api, tongzhou_reporter, songqingliang, language, message
):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}

    response = api(tongzhou_reporter).post(
        REPORTS, {"target": songqingliang.pk, "period_end": "2023-06-30", "value": "1"}, **headers
    )

    assert response.status_code == 400
    assert response.json() == {"period_end": [message]}


def test_a_workflow_refusal_is_in_english_when_asked(api, jingkou_reporter, songqingliang):
    response = api(jingkou_reporter).post(
        REPORTS, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "1"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code in (400, 403)
    assert not re.search(r"[\u4e00-\u9fff]", response.content.decode())


def test_a_non_numeric_year_filter_is_refused_in_english(api, tongzhou_reporter, songqingliang):
    response = api(tongzhou_reporter).get(TARGETS, {"year": "abc"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"year": ["Enter a whole number."]}


def test_an_empty_filter_is_refused_in_english(api, tongzhou_reporter, songqingliang):
    response = api(tongzhou_reporter).get(TARGETS, {"year": ""}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"year": ["This parameter cannot be empty; leave it out if not needed"]}


def test_an_unknown_ordering_is_refused_in_english_and_in_chinese_by_default(api, tongzhou_reporter, songqingliang):
    client = api(tongzhou_reporter)

    english = client.get(TARGETS, {"ordering": "zzz"}, HTTP_ACCEPT_LANGUAGE="en").json()["ordering"][0]
    chinese = client.get(TARGETS, {"ordering": "zzz"}).json()["ordering"][0]

    assert english.startswith("Cannot sort by “zzz”. Choose from: ")
    assert chinese.startswith("不能按“zzz”排序")


def qualifier_choices(response):
    field = response.json()["actions"]["POST"]["qualifier"]
    return field["label"], {choice["value"]: choice["display_name"] for choice in field["choices"]}


def test_field_labels_and_choices_the_api_describes_follow_the_language(api, tongzhou_reporter, songqingliang):
    client = api(tongzhou_reporter)

    english = qualifier_choices(client.options(REPORTS, HTTP_ACCEPT_LANGUAGE="en"))
    chinese = qualifier_choices(client.options(REPORTS))

    assert english == ("Qualifier", {"exact": "Exact", "at_least": "At least", "more_than": "More than", "about": "About"})
    assert chinese == ("限定", {"exact": "精确", "at_least": "以上", "more_than": "超过", "about": "约"})


# --- the admin -------------------------------------------------------------------------


def test_the_dashboard_is_in_english_for_an_admin_user_whose_browser_asks_for_english(
    songqingliang, tongzhou_reporter, logged_in
):
    response = logged_in(tongzhou_reporter).get(reverse("admin:tracking_dashboard"), HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Progress dashboard" in page
    assert "Status summary" in page
    assert "进度看板" not in page


def test_the_dashboard_stays_in_chinese_by_default(songqingliang, tongzhou_reporter, logged_in):
    response = logged_in(tongzhou_reporter).get(reverse("admin:tracking_dashboard"))

    page = response.content.decode()
    assert "进度看板" in page
    assert "状态统计" in page


def test_an_admin_user_can_choose_english_with_the_language_cookie(songqingliang, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(reverse("admin:tracking_progressreport_import")).content.decode()

    assert "Upload file" in page
    assert "Check file (nothing saved)" in page


# --- models and importing --------------------------------------------------------------


def test_target_status_labels_are_english_under_english():
    with translation.override("en"):
        assert Target.Status.BEHIND.label == "Behind"
        assert str(ProgressReport.Status.SUBMITTED.label) == "Awaiting review"
    with translation.override("zh-hans"):
        assert Target.Status.BEHIND.label == "滞后"


def test_a_model_verbose_name_is_english_under_english():
    with translation.override("en"):
        assert str(ProgressReport._meta.verbose_name) == "Progress reports"
        assert str(Target._meta.get_field("unit").verbose_name) == "Unit"


@pytest.mark.parametrize(
    ("text", "english"),
    [("-1", "Value cannot be negative"), ("", "Value is required"), ("abc", "“abc” is not a valid number")],
)
def test_import_value_errors_are_english_under_english(text, english):
    with translation.override("en"), pytest.raises(ValueError) as refused:
        parse_value(text)

    assert str(refused.value) == english


def test_import_value_errors_are_chinese_by_default():
    with pytest.raises(ValueError) as refused:
        parse_value("-1")

    assert str(refused.value) == "数值不能为负数"


# --- the catalogue ---------------------------------------------------------------------


def po_entries(path):
    """(msgid, msgstr, flags) for every entry of a .po file, header excluded."""
    entries, current, field = [], None, None

    def finish():
        if current is not None and current["msgid"]:
            entries.append((current["msgid"], current["msgstr"], current["flags"]))

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
            current, field = None, None
            continue
        if current is None:
            current = {"msgid": "", "msgstr": "", "flags": set()}
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ")):
            field, _, rest = line.partition(" ")
            current[field] = rest.strip()[1:-1]
        elif line.startswith('"'):
            current[field] += line.strip()[1:-1]
    finish()
    return entries


def placeholders(text):
    return sorted(re.findall(r"%\(\w+\)[sd]|%[sd]", text))


def test_every_string_in_the_catalogue_has_an_english_translation():
    entries = po_entries(PO_FILE)

    assert len(entries) > 300
    assert [msgid for msgid, msgstr, _ in entries if not msgstr] == []
    assert [msgid for msgid, _, flags in entries if "fuzzy" in flags] == []


def test_every_translation_keeps_the_placeholders_of_its_original():
    mismatched = [
        (msgid, msgstr) for msgid, msgstr, _ in po_entries(PO_FILE) if placeholders(msgid) != placeholders(msgstr)
    ]

    assert mismatched == []


def test_no_english_translation_is_left_in_chinese():
    chinese = re.compile(r"[\u4e00-\u9fff]")

    assert [msgstr for _, msgstr, _ in po_entries(PO_FILE) if chinese.search(msgstr)] == []


def test_the_catalogue_is_compiled():
    assert PO_FILE.with_suffix(".mo").stat().st_mtime >= PO_FILE.stat().st_mtime - 1

"""Issue 14, defect 8: the admin's history pages answer 404 for a malformed, missing or out-of-scope id alike."""

import pytest

from tracking.models import ProgressReport, Target

MISSING = 10**9


def version_of(obj):
    return type(obj).history.filter(id=obj.pk).latest("history_id").history_id


def urls(world):
    tongzhou, jingkou = world["tongzhou"], world["jingkou"]
    tz_report, jk_report = tongzhou["progressreport"], jingkou["progressreport"]
    return {
        "a report's history, id abc": "/admin/tracking/progressreport/abc/history/",
        "a target's history, id abc": "/admin/tracking/target/abc/history/",
        "a version abc of an own report": f"/admin/tracking/progressreport/{tz_report.pk}/history/abc/",
        "a version 1.5 of an own report": f"/admin/tracking/progressreport/{tz_report.pk}/history/1.5/",
        "a version of a report abc": f"/admin/tracking/progressreport/abc/history/{version_of(tz_report)}/",
        "a version abc of an own target": f"/admin/tracking/target/{tongzhou['target'].pk}/history/abc/",
        "another district's report's history": f"/admin/tracking/progressreport/{jk_report.pk}/history/",
        "another district's target's history": f"/admin/tracking/target/{jingkou['target'].pk}/history/",
        "another district's report's version": f"/admin/tracking/progressreport/{jk_report.pk}/history/{version_of(jk_report)}/",
        "another district's target's version":
            f"/admin/tracking/target/{jingkou['target'].pk}/history/{version_of(jingkou['target'])}/",
        "a missing report's history": f"/admin/tracking/progressreport/{MISSING}/history/",
        "a missing report's version": f"/admin/tracking/progressreport/{MISSING}/history/{MISSING}/",
        "another report's version under an own report":
            f"/admin/tracking/progressreport/{tz_report.pk}/history/{version_of(jk_report)}/",
    }


NAMES = [
    "a report's history, id abc", "a target's history, id abc", "a version abc of an own report",
    "a version 1.5 of an own report", "a version of a report abc", "a version abc of an own target",
    "another district's report's history", "another district's target's history", "another district's report's version",
    "another district's target's version", "a missing report's history", "a missing report's version",
    "another report's version under an own report",
]


@pytest.mark.parametrize("name", NAMES)
def test_a_history_page_out_of_reach_is_a_404_like_a_missing_one(name, a_draft_in_each_district, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    counts = (ProgressReport.history.count(), Target.history.count())

    response = client.get(urls(a_draft_in_each_district)[name])
    missing = client.get(f"/admin/tracking/progressreport/{MISSING}/history/")

    assert response.status_code == 404
    assert response.content == missing.content
    assert (ProgressReport.history.count(), Target.history.count()) == counts


def test_an_own_version_is_still_shown(a_draft_in_each_district, tongzhou_reporter, logged_in):
    own = a_draft_in_each_district["tongzhou"]["progressreport"]

    response = logged_in(tongzhou_reporter).get(f"/admin/tracking/progressreport/{own.pk}/history/{version_of(own)}/")

    assert response.status_code == 200

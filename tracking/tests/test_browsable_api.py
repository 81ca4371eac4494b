"""Issue 14, defect 1: the browsable API's report form offers only the targets its user may see."""

import re

from tracking.models import ProgressReport
from tracking.tests.conftest import make_user

URL = "/api/v1/progress-reports/"


def target_options(response):
    page = response.content.decode()
    select = re.search(r'<select[^>]*name="target"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the form has a target select"
    return {int(value) for value in re.findall(r'<option value="(\d+)"', select.group(1))}


def test_a_tongzhou_reporter_is_offered_tongzhou_targets_only(api, songqingliang, jingkou_target, tongzhou_reporter):
    response = api(tongzhou_reporter).get(URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert target_options(response) == {songqingliang.pk}


def test_a_reviewer_is_offered_his_citys_targets_only(api, songqingliang, jingkou_target, nantong_reviewer):
    assert target_options(api(nantong_reviewer).get(URL, HTTP_ACCEPT="text/html")) == {songqingliang.pk}


def test_a_user_without_membership_is_offered_no_target(api, songqingliang, jingkou_target, regions):
    stranger = make_user("stranger")
    assert target_options(api(stranger).get(URL, HTTP_ACCEPT="text/html")) == set()


def test_another_districts_target_is_still_refused_in_json(api, songqingliang, jingkou_target, tongzhou_reporter):
    body = {"target": jingkou_target.pk, "period_end": "2024-06-30", "value": "5"}
    response = api(tongzhou_reporter).post(URL, body, format="json")
    assert response.status_code == 400
    assert "target" in response.json()
    assert not ProgressReport.objects.exists()

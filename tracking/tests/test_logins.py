"""Issue 14, defects 7 and 12: over-long usernames are a 400, and the token's lockout a 429.

django-axes records every failed login in a 255-character column; a longer
username must be refused before it gets there (or cut to fit), never a 500.
"""

import json

from axes.models import AccessAttempt
from rest_framework.authtoken.models import Token

from .test_bad_input import CHINESE
from .test_security import clerk  # noqa: F401 (the fixture)

LONG = "x" * 300
TOKEN = "/api/v1/token/"


def test_an_over_long_username_for_a_token_is_a_400(api, regions):
    response = api().post(TOKEN, {"username": LONG, "password": "guess"}, format="json")

    assert response.status_code == 400
    assert CHINESE.search(json.dumps(response.json(), ensure_ascii=False))
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()


def test_an_over_long_username_at_the_admin_login_is_a_400(client, regions):
    response = client.post("/admin/login/?next=/admin/", {"username": LONG, "password": "guess"})

    assert response.status_code == 400
    assert "150" in response.content.decode()  # the form says how long a username may be
    assert not AccessAttempt.objects.exists()
    assert "_auth_user_id" not in client.session


def test_an_over_long_username_at_the_browsable_apis_login_is_recorded_cut_to_fit(client, regions):
    response = client.post("/api/v1/auth/login/", {"username": LONG, "password": "guess"})

    assert response.status_code == 200  # the form again, with its error
    assert [len(attempt.username) for attempt in AccessAttempt.objects.all()] == [255]


def test_a_lone_surrogate_in_a_token_request_is_a_400(api, regions):
    response = api().post(TOKEN, data='{"username": "a\\ud800", "password": "x"}', content_type="application/json")

    assert response.status_code == 400
    assert not AccessAttempt.objects.exists()


def test_the_token_lockout_is_a_429_like_the_admins(api, clerk, settings):  # noqa: F811
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(TOKEN, {"username": "tongzhou_clerk", "password": "guess"}, format="json")
        assert response.status_code == 400

    locked = client.post(TOKEN, {"username": "tongzhou_clerk", "password": "guess"}, format="json")
    again = client.post(TOKEN, {"username": "tongzhou_clerk", "password": "correct-horse-battery-9"}, format="json")

    assert (locked.status_code, again.status_code) == (429, 429)
    assert "锁定" in again.json()["detail"]
    assert not Token.objects.filter(user=clerk).exists()
    assert AccessAttempt.objects.get(username="tongzhou_clerk").failures_since_start >= settings.AXES_FAILURE_LIMIT

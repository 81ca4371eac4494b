"""Who may call the API at all: tokens, sessions, public reads, throttling."""

import datetime
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tracking.auth import token_with_user
from tracking.models import ProgressReport

from .conftest import report

READS = ["/api/v1/regions/", "/api/v1/programmes/", "/api/v1/targets/", "/api/v1/progress-reports/", "/api/v1/summary/"]


@pytest.mark.parametrize("url", READS)
def test_reads_need_a_user_by_default(api, url):
    response = api().get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("url", READS)
def test_public_read_gives_anonymous_clients_only_the_public_shape(api, settings, songqingliang, jingkou_target, url):
    settings.TRACKING_PUBLIC_READ = True
    client = api()

    # The full API, with its drafts, pending values, notes and usernames, still needs a user...
    assert client.get(url).status_code == 401
    # ...and the public one answers in its own shape, approved figures only (test_public.py).
    region = client.get("/api/v1/public/regions/320612/").json()
    assert region["programmes"][0]["items"][0]["targets"][0]["name"] == songqingliang.name
    assert "pending_value" not in region["programmes"][0]["items"][0]["targets"][0]


def test_public_read_leaves_writes_closed(api, settings, songqingliang):
    settings.TRACKING_PUBLIC_READ = True
    submitted = report(songqingliang, "2024-06-30", 6000, status=ProgressReport.Status.SUBMITTED)
    client = api()

    assert client.post("/api/v1/progress-reports/", {"target": songqingliang.pk, "period_end": "2024-06-30", "value": 1}).status_code == 401
    assert client.post(f"/api/v1/progress-reports/{submitted.pk}/approve/").status_code == 401
    assert client.delete(f"/api/v1/progress-reports/{submitted.pk}/").status_code == 401
    submitted.refresh_from_db()
    assert submitted.status == ProgressReport.Status.SUBMITTED


def test_public_read_does_not_widen_a_logged_in_users_scope(api, settings, songqingliang, jingkou_target, jingkou_reporter):
    settings.TRACKING_PUBLIC_READ = True

    rows = api(jingkou_reporter).get("/api/v1/targets/").json()["results"]

    assert [row["id"] for row in rows] == [jingkou_target.pk]


def test_password_for_token(api, tongzhou_reporter):
    response = api().post("/api/v1/token/", {"username": "tongzhou_reporter", "password": "pw-tongzhou_reporter"})

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=tongzhou_reporter).key}
    assert api().post("/api/v1/token/", {"username": "tongzhou_reporter", "password": "wrong"}).status_code == 400


def test_a_bad_token_is_401(api, songqingliang):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    assert client.get("/api/v1/targets/").status_code == 401


def test_a_token_brings_its_user_and_membership_as_select_related_would(
    tongzhou_reporter, superuser, django_assert_num_queries
):
    for account in (tongzhou_reporter, superuser):  # with a membership, and without one
        account.last_login = timezone.now()
        account.save()
        key = Token.objects.create(user=account).key
        expected = Token.objects.select_related("user__membership").get(key=key)

        with django_assert_num_queries(1):
            token = token_with_user(key)
            membership = getattr(token.user, "membership", None)

        assert fields(token) == fields(expected) and fields(token.user) == fields(expected.user)
        assert isinstance(token.user.last_login, datetime.datetime) and token.user.is_active is True
        expected_membership = getattr(expected.user, "membership", None)
        assert (membership and fields(membership)) == (expected_membership and fields(expected_membership))
        assert membership is None or membership.user is token.user
    assert token_with_user("0123456789abcdef") is None


def test_a_deactivated_users_token_is_401(api, tongzhou_reporter, songqingliang):
    client = api(tongzhou_reporter)
    tongzhou_reporter.is_active = False
    tongzhou_reporter.save()

    response = client.get("/api/v1/targets/")

    assert response.status_code == 401


def fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_session_login_serves_the_browsable_api(client, tongzhou_reporter, songqingliang):
    client.force_login(tongzhou_reporter)

    response = client.get("/api/v1/targets/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert "送清凉" in response.content.decode()


def test_unknown_ids_are_json_404(api, tongzhou_reporter):
    response = api(tongzhou_reporter).get("/api/v1/targets/999999/")

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}


# --- issue_token ---------------------------------------------------------------------


def issue(*args):
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def test_issue_token_prints_a_working_token(api, tongzhou_reporter, songqingliang):
    key = issue("tongzhou_reporter")

    assert key == Token.objects.get(user=tongzhou_reporter).key
    assert issue("tongzhou_reporter") == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/targets/").json()["count"] == 1


def test_issue_token_rotate_revokes_the_old_token(tongzhou_reporter):
    old = issue("tongzhou_reporter")

    new = issue("tongzhou_reporter", "--rotate")

    assert new != old
    assert list(Token.objects.values_list("key", flat=True)) == [new]


def test_issue_token_refuses_unknown_and_inactive_users(tongzhou_reporter):
    with pytest.raises(CommandError, match="no user"):
        issue("nobody")
    tongzhou_reporter.is_active = False
    tongzhou_reporter.save()
    with pytest.raises(CommandError, match="inactive"):
        issue("tongzhou_reporter")
    assert not Token.objects.exists()


# --- throttling --------------------------------------------------------------------------


def test_anonymous_clients_are_throttled(api, settings, monkeypatch, regions):
    settings.TRACKING_PUBLIC_READ = True
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    client = api()

    assert [client.get("/api/v1/public/regions/").status_code for _ in range(3)] == [200, 200, 429]


def test_users_are_throttled_separately(api, monkeypatch, tongzhou_reporter, jingkou_reporter):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/minute"})

    assert [api(tongzhou_reporter).get("/api/v1/regions/").status_code for _ in range(2)] == [200, 429]
    assert api(jingkou_reporter).get("/api/v1/regions/").status_code == 200


def test_throttle_rates_come_from_the_environment_and_fail_loudly(monkeypatch):
    from config.settings import envrate

    monkeypatch.setenv("API_THROTTLE_ANON", "30/hour")
    assert envrate("API_THROTTLE_ANON", "120/minute") == "30/hour"
    monkeypatch.setenv("API_THROTTLE_ANON", "lots")
    with pytest.raises(ImproperlyConfigured):
        envrate("API_THROTTLE_ANON", "120/minute")


def test_unknown_api_urls_are_json_404(api, tongzhou_reporter):
    # Enforcing CSRF as a browser would meet it: a token client's POST must still get the JSON 404.
    client = api(tongzhou_reporter)
    client.handler.enforce_csrf_checks = True

    for method, url in [
        ("get", "/api/v1/targets/0.5/"),
        ("post", "/api/v1/progress-reports/0.5/approve/"),
        ("delete", "/api/v1/progress-reports/0.5/"),
        ("get", "/api/v1/nothing-here/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到。"}
    assert client.get("/api/v1/targets").status_code == 301


def test_a_method_the_endpoint_lacks_is_405_whatever_the_format(api, tongzhou_reporter):
    response = api(tongzhou_reporter).generic("TRACE", "/api/v1/targets/?format=csv")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"


def test_tokens_can_be_issued_from_the_admin(client, superuser, tongzhou_reporter):
    client.force_login(superuser)

    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": tongzhou_reporter.pk})

    assert response.status_code == 302
    assert Token.objects.filter(user=tongzhou_reporter).exists()

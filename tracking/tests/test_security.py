"""Password guessing, request floods, evidence files and secrets in logs."""

import datetime
import logging

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tracking.models import EVIDENCE_MAX_BYTES, ProgressReport

from .conftest import make_user, report


LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def clerk(regions):
    user = make_user("tongzhou_clerk", "320612", "reporter", is_staff=True)
    user.set_password("correct-horse-battery-9")
    user.save()
    return user


def admin_login(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


# --- Admin login throttling (django-axes) ----------------------------------------------------


def test_admin_login_is_locked_after_five_failures_even_with_the_right_password(client, clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(client, "tongzhou_clerk", "guess").status_code == 200  # the form again, with an error

    locked = admin_login(client, "tongzhou_clerk", "guess")
    assert locked.status_code == 429
    again = admin_login(client, "tongzhou_clerk", "correct-horse-battery-9")
    assert again.status_code == 429
    assert "登录失败次数过多" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_for_that_username_from_that_address_only(client, clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, "tongzhou_clerk", "guess", address="10.0.0.1")

    # The clerk at their own desk is not locked out by someone guessing elsewhere.
    assert admin_login(client, "tongzhou_clerk", "correct-horse-battery-9", address="10.0.0.2").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(client, clerk, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "tongzhou_clerk", "password": "guess"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = client.post(LOGIN, {"username": "tongzhou_clerk", "password": "correct-horse-battery-9"},
                           REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429


def test_a_successful_login_before_the_limit_resets_the_count(client, clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, "tongzhou_clerk", "guess")
    assert admin_login(client, "tongzhou_clerk", "correct-horse-battery-9").status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, "tongzhou_clerk", "guess")
    assert admin_login(client, "tongzhou_clerk", "correct-horse-battery-9").status_code == 302


def test_api_token_logins_count_towards_the_same_lockout(api, clerk, settings):
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/api/v1/token/", {"username": "tongzhou_clerk", "password": "guess"}, format="json",
                               REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 400
    admin_login(Client(), "tongzhou_clerk", "guess")  # the fifth failure, in the admin

    response = client.post("/api/v1/token/", {"username": "tongzhou_clerk", "password": "correct-horse-battery-9"},
                           format="json", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert "token" not in response.json()


def test_test_client_login_still_works(client, clerk):
    # Request-less authenticate() calls (scripts, the test client) skip the lockout check.
    assert client.login(username="tongzhou_clerk", password="correct-horse-battery-9")


def test_failed_logins_never_log_the_password(client, clerk, caplog, settings):
    caplog.set_level(logging.DEBUG)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        admin_login(client, "tongzhou_clerk", "Secret-Guess-42")

    assert "Secret-Guess-42" not in caplog.text
    assert caplog.records, "nothing was logged, so nothing was checked"


# --- API throttling ----------------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    # DRF reads the rates once, at import; the classes keep them.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "5/minute", "anon": "3/minute"})
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"user": "5/minute", "anon": "3/minute"})
    cache.clear()
    yield
    cache.clear()


def test_a_user_flooding_the_api_gets_429_in_chinese(api, tongzhou_reporter, jingkou_reporter, low_rates):
    client = api(tongzhou_reporter)
    statuses = [client.get("/api/v1/targets/").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    response = client.get("/api/v1/targets/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "请求已被限流" in response.json()["detail"]
    # Counted per user: another district's clerk is not slowed down.
    assert api(jingkou_reporter).get("/api/v1/targets/").status_code == 200


def test_a_throttle_stores_a_count_whatever_the_rate(rf, tongzhou_reporter):
    # DRF's own throttle stores every request's timestamp, so its cache entry,
    # pickled on each request, grows with the rate; ours stays one number.
    from tracking.api.throttling import UserThrottle

    cache.clear()
    request = rf.get("/api/v1/targets/")
    request.user = tongzhou_reporter
    throttle = UserThrottle()
    throttle.rate, (throttle.num_requests, throttle.duration) = "1000/minute", (1000, 60)

    assert all(throttle.allow_request(request, None) for _ in range(50))
    opened = cache.get(throttle.key)
    assert cache.get(f"{throttle.key}:{opened}") == 50
    assert 0 < throttle.wait() <= 60


def test_anonymous_password_guessing_on_the_token_endpoint_is_throttled(api, clerk, low_rates):
    # A made-up X-Forwarded-For per request must not make each one a new client.
    client = api()
    statuses = [
        client.post("/api/v1/token/", {"username": f"user{n}", "password": "guess"}, format="json",
                    REMOTE_ADDR="10.0.1.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]

    assert statuses == [400, 400, 400, 429]


def test_forwarded_for_is_trusted_only_as_far_as_the_configured_proxies(rf, settings):
    from tracking.lockout import client_ip

    request = rf.get("/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "172.18.0.2"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The proxy appended the address it saw; what the client wrote before it is ignored.
    assert client_ip(request) == "203.0.113.7"


# --- Evidence files --------------------------------------------------------------------------


@pytest.fixture
def evidence_report(songqingliang, media_root):
    photo = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n tongzhou", content_type="image/png")
    return report(songqingliang, datetime.date(2024, 6, 30), 100, status=ProgressReport.Status.DRAFT, evidence=photo)


def add_report(client, target, evidence):
    url = reverse("admin:tracking_progressreport_add")
    return client.post(url, {"target": target.pk, "period_end": "2024-07-31", "value": "1", "qualifier": "exact",
                             "note": "", "evidence": evidence})


@pytest.mark.parametrize("name, content", [
    ("page.html", b"<script>alert(1)</script>"),
    ("tool.exe", b"MZ\x90\x00"),
    ("photo.svg", b"<svg onload=alert(1)>"),
])
def test_evidence_of_a_disallowed_type_is_refused(name, content, songqingliang, tongzhou_reporter, logged_in, media_root):
    response = add_report(logged_in(tongzhou_reporter), songqingliang, SimpleUploadedFile(name, content))

    assert response.status_code == 200
    assert "是不被允许" in response.content.decode()
    assert not ProgressReport.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_evidence_over_the_size_limit_is_refused(songqingliang, tongzhou_reporter, logged_in, media_root):
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * EVIDENCE_MAX_BYTES)

    response = add_report(logged_in(tongzhou_reporter), songqingliang, big)

    assert response.status_code == 200
    assert "附件不能超过 10 MB" in response.content.decode()
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize("name, allowed", [
    ("tongzhou_reporter", True), ("nantong_reviewer", True), ("jingkou_reporter", False), ("zhenjiang_reviewer", False),
])
def test_evidence_is_served_only_to_users_who_may_see_the_report(
    name, allowed, evidence_report, logged_in, request
):
    client = logged_in(request.getfixturevalue(name))

    response = client.get(reverse("admin:tracking_progressreport_evidence", args=[evidence_report.pk]))

    assert response.status_code == (200 if allowed else 404)
    if allowed:
        assert b"".join(response.streaming_content).endswith(b"tongzhou")
        # A file that is not what its name says must not be rendered as something else.
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "image/png"


def test_evidence_is_not_served_from_media_url(evidence_report, client, logged_in, tongzhou_reporter):
    path = "/media/" + evidence_report.evidence.name
    assert client.get(path).status_code == 404
    assert logged_in(tongzhou_reporter).get(path).status_code == 404


def test_evidence_needs_a_login(evidence_report, client):
    response = client.get(reverse("admin:tracking_progressreport_evidence", args=[evidence_report.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- Secrets in logs and errors ----------------------------------------------------------


def test_tokens_and_passwords_stay_out_of_logs_and_error_answers(api, clerk, caplog):
    from rest_framework.authtoken.models import Token

    caplog.set_level(logging.DEBUG)
    token = Token.objects.create(user=clerk).key
    client = api()
    answers = [
        client.get("/api/v1/targets/", HTTP_AUTHORIZATION=f"Token {token}x"),
        client.get(f"/api/v1/targets/?token={token}", HTTP_AUTHORIZATION=f"Token {token}"),
        client.post("/api/v1/token/", {"username": "tongzhou_clerk", "password": "Wrong-Password-77"}, format="json"),
        client.get("/api/v1/targets/abc/", HTTP_AUTHORIZATION=f"Token {token}"),
        client.post("/api/v1/progress-reports/", {"target": "x"}, format="json", HTTP_AUTHORIZATION=f"Token {token}"),
    ]

    assert [a.status_code for a in answers] == [401, 200, 400, 404, 400]
    for secret in (token, "Wrong-Password-77", "correct-horse-battery-9"):
        assert secret not in caplog.text
        assert not any(secret in a.content.decode() for a in answers)
    assert caplog.records

"""send_reminders: who hears what on which day (a fixed calendar, the date passed in), one digest per person,
delivered through a real SMTP server and a real local HTTP server, never twice, retried after a failure.

Tongzhou's 2024 plan reports monthly, due on the 5th; reminders start 3 days before the due date and copy
the city's reviewer from 7 days after it.
"""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import threading
import urllib.parse

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection

from tracking import totals
from tracking.followup import reminders
from tracking.models import Message, Region

from .browser import live_database
from .conftest import D, S, report


@pytest.fixture(autouse=True)
def rules(settings):
    settings.TRACKING_REPORTING_FREQUENCY, settings.TRACKING_REPORTING_DUE_DAYS = "monthly", 5
    settings.TRACKING_REMIND_DAYS_BEFORE, settings.TRACKING_ESCALATE_AFTER_DAYS = 3, 7


@pytest.fixture
def tongzhou_people(songqingliang, tongzhou_reporter, tongzhou_manager, nantong_reviewer, zhenjiang_reviewer):
    for user in (tongzhou_reporter, tongzhou_manager, nantong_reviewer, zhenjiang_reviewer):
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])
    return songqingliang


def moment(*args):
    from django.utils import timezone
    return timezone.make_aware(datetime.datetime(*args, 9))


def who_hears(day):
    """{username: [kinds]} of the calendar's reminders on that day."""
    heard = {}
    users = {}
    from django.contrib.auth.models import User
    for user in User.objects.all():
        users[f"user:{user.pk}"] = user.username
    for digest in reminders.compose(today=day, with_progress=False):
        if digest.recipient.startswith("user:"):
            heard[users[digest.recipient]] = sorted({e["kind"] for e in digest.events if e["period"] == "2024-01"})
    return {name: kinds for name, kinds in heard.items() if kinds}


def test_the_calendar_of_januarys_report_day_by_day(tongzhou_people):
    assert who_hears(D(2024, 2, 1)) == {}
    assert who_hears(D(2024, 2, 2)) == {"tongzhou_reporter": ["due_soon"]}
    assert who_hears(D(2024, 2, 4)) == {"tongzhou_reporter": ["due_soon"]}
    assert who_hears(D(2024, 2, 5)) == {"tongzhou_reporter": ["due_today"], "tongzhou_manager": ["due_today"]}
    assert who_hears(D(2024, 2, 6)) == {"tongzhou_reporter": ["overdue"], "tongzhou_manager": ["overdue"]}
    # Seven days late: the city's reviewer too, and never Zhenjiang's.
    assert who_hears(D(2024, 2, 12)) == {
        "tongzhou_reporter": ["escalated"], "tongzhou_manager": ["escalated"], "nantong_reviewer": ["escalated"],
    }


def test_a_submitted_period_is_not_chased_and_a_draft_is(tongzhou_people):
    report(tongzhou_people, D(2024, 1, 31), 100, status=S.DRAFT)
    assert who_hears(D(2024, 2, 6)) == {"tongzhou_reporter": ["overdue"], "tongzhou_manager": ["overdue"]}
    tongzhou_people.reports.update(status=S.SUBMITTED, submitted_at=moment(2024, 2, 6))
    totals.refresh([tongzhou_people.pk])  # as a script writing straight to the database does
    assert who_hears(D(2024, 2, 6)) == {}


def test_a_closed_period_is_not_chased(tongzhou_people, nantong_reviewer, regions):
    from tracking.followup import closing
    closing.close_period(user=nantong_reviewer, region=regions["320612"], start=D(2024, 1, 1), end=D(2024, 1, 31))
    assert who_hears(D(2024, 2, 12)) == {}


def test_one_digest_per_person_however_many_periods_and_programmes(tongzhou_people, jingkou_target, regions):
    # 11 March: January escalated, February overdue; both in one digest for each person.
    digests = reminders.compose(today=D(2024, 3, 11), with_progress=False)
    per_person = {}
    for digest in digests:
        per_person.setdefault(digest.recipient, []).append(digest)
    assert all(len(found) == 1 for found in per_person.values())
    reporter = next(d for d in digests if d.user_id == tongzhou_people.programme.region.memberships.get(role="reporter").user_id)
    assert [(e["period"], e["kind"]) for e in reporter.events] == [("2024-01", "escalated"), ("2024-02", "overdue")]


# --- Delivery ---------------------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.original_content))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


class Robot(http.server.BaseHTTPRequestHandler):
    answers = []  # status codes to answer with, in turn; 200 {"errcode": 0} when empty
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"errcode": 0, "errmsg": "ok"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    Robot.answers, Robot.received = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Robot
    server.shutdown()


def test_emails_go_through_a_real_smtp_server_with_the_digest_in_the_body(tongzhou_people, smtp):
    counts = reminders.run(today=D(2024, 2, 12))
    assert counts["failed"] == 0 and counts["sent"] == 3
    recipients = sorted(to for tos, _content in smtp.messages for to in tos)
    assert recipients == ["nantong_reviewer@example.cn", "tongzhou_manager@example.cn", "tongzhou_reporter@example.cn"]
    import email
    from email import policy
    parsed = email.message_from_bytes(smtp.messages[0][1], policy=policy.default)
    assert "逾期催办" in parsed["Subject"]
    assert "通州区：1月 的进度尚未报送（未报送），2024-02-05 到期，已逾期 7 天" in parsed.get_content()
    assert Message.objects.filter(result="sent", channel="email").count() == 3


def test_running_twice_sends_nothing_twice(tongzhou_people, smtp):
    reminders.run(today=D(2024, 2, 12))
    call_command("send_reminders", "--date", "2024-02-12", stdout=open("/dev/null", "w"))
    assert len(smtp.messages) == 3
    assert Message.objects.count() == 3


def test_a_user_without_an_address_gets_the_inbox_alone(tongzhou_people, smtp, tongzhou_reporter):
    tongzhou_reporter.email = ""
    tongzhou_reporter.save()
    reminders.run(today=D(2024, 2, 2))
    assert smtp.messages == []
    message = Message.objects.get(user=tongzhou_reporter)
    assert (message.channel, message.result, message.read_at) == ("inbox", "sent", None)


def test_group_robots_get_their_documented_json_and_dingtalk_is_signed(tongzhou_people, robot, regions):
    base, server = robot
    Region.objects.filter(pk="320612").update(webhook_kind="wecom", webhook_url=f"{base}/wecom?key=KEY")
    Region.objects.filter(pk="320600").update(webhook_kind="dingtalk", webhook_url=f"{base}/ding?access_token=T",
                                              webhook_secret="SECxyz")
    reminders.run(today=D(2024, 2, 12))
    by_path = {path.split("?")[0]: (path, body) for path, body in server.received}
    assert set(by_path) == {"/wecom", "/ding"}
    _path, wecom = by_path["/wecom"]
    assert wecom["msgtype"] == "markdown"
    assert wecom["markdown"]["content"].startswith("**【职工实事跟踪】2024-02-12 提醒")
    assert "> 通州区：1月 的进度尚未报送" in wecom["markdown"]["content"]
    path, ding = by_path["/ding"]
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"].startswith("【职工实事跟踪】")
    assert "- 通州区：1月 的进度尚未报送" in ding["markdown"]["text"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert query["access_token"] == ["T"]
    expected = base64.b64encode(
        hmac.new(b"SECxyz", f"{query['timestamp'][0]}\nSECxyz".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]


def test_a_failed_delivery_is_shown_and_retried_on_the_next_run_without_the_secret(tongzhou_people, robot, caplog):
    base, server = robot
    Region.objects.filter(pk="320612").update(webhook_kind="dingtalk", webhook_url=f"{base}/ding?access_token=TOKEN",
                                              webhook_secret="SECRET")
    server.answers = [500]
    reminders.run(today=D(2024, 2, 6))
    failed = Message.objects.get(channel="dingtalk")
    assert (failed.result, failed.attempts) == ("failed", 1)
    assert "HTTP 500" in failed.error and "TOKEN" not in failed.error and "SECRET" not in failed.error
    reminders.run(today=D(2024, 2, 7))
    failed.refresh_from_db()
    assert (failed.result, failed.attempts) == ("sent", 2)
    assert len(server.received) == 3  # the failure, its retry, and the 7th's own digest
    assert "TOKEN" not in caplog.text and "SECRET" not in caplog.text


@live_database  # transactional, flushed afterwards as the browser tests are (see tracking/tests/browser.py)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED need PostgreSQL")
def test_two_runs_at_the_same_moment_send_each_message_once(regions, robot):
    from .conftest import make_plan, make_target

    base, server = robot
    plan = make_plan("320612")
    make_target(plan)
    from django.contrib.auth.models import User

    from tracking.models import Membership
    # A flushed database has no role groups; reminders need only the memberships.
    for index in range(20):
        user = User.objects.create_user(f"reporter{index}", email=f"reporter{index}@example.cn")
        Membership.objects.create(user=user, region_id="320612", role="reporter")
    Region.objects.filter(pk="320612").update(webhook_kind="wecom", webhook_url=f"{base}/wecom?key=K")
    from django.core import mail
    from django.test import override_settings

    errors = []
    barrier = threading.Barrier(2)

    def one_run():
        try:
            barrier.wait()
            reminders.run(today=D(2024, 2, 6))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(server.received) == 1
    assert sorted(to for sent in mail.outbox for to in sent.to) == sorted(f"reporter{i}@example.cn" for i in range(20))
    assert Message.objects.count() == 21 and Message.objects.exclude(result="sent").count() == 0


# --- Progress alerts --------------------------------------------------------------------------------


def first_day_behind(target, start):
    from tracking.models import Target

    day = start
    while Target.objects.with_progress(as_of=day).get(pk=target.pk).status != "behind":
        day += datetime.timedelta(days=1)
    return day


def test_a_target_falling_behind_alerts_the_manager_and_the_city_reviewer_once(
    tongzhou_people, tongzhou_manager, nantong_reviewer, tongzhou_reporter
):
    # 3,000 of 12,000 by the end of March: a quarter done, behind once a third of the year has gone (+10 points).
    report(tongzhou_people, D(2024, 3, 31), 3000, status=S.APPROVED, submitted_at=moment(2024, 4, 1))
    day = first_day_behind(tongzhou_people, D(2024, 4, 1))
    alerts = {
        d.user_id: [e["kind"] for e in d.events if e["kind"] in ("fell_behind", "stayed_behind")]
        for d in reminders.compose(today=day)
    }
    assert alerts.get(tongzhou_manager.pk) == ["fell_behind"]
    assert alerts.get(nantong_reviewer.pk) == ["fell_behind"]
    assert alerts.get(tongzhou_reporter.pk, []) == []
    # The next day it is still behind: no new alert, until a whole period has passed behind.
    later = reminders.progress_events(today=day + datetime.timedelta(days=1))
    assert later == []


def test_a_target_behind_for_a_whole_month_alerts_when_the_month_ends(tongzhou_people, tongzhou_manager):
    report(tongzhou_people, D(2024, 3, 31), 3000, status=S.APPROVED, submitted_at=moment(2024, 4, 1))
    # Behind from some day in April or May on; behind all of June, alerted on 1 July.
    assert first_day_behind(tongzhou_people, D(2024, 4, 1)) < D(2024, 6, 1)
    [(event, region)] = reminders.progress_events(today=D(2024, 7, 1))
    assert (event["kind"], event["code"], region.pk) == ("stayed_behind", "4.1", "320612")


def test_the_scheduler_runs_send_reminders_at_the_configured_time(settings):
    import io

    settings.TRACKING_REMINDER_TIME = (7, 45)
    out = io.StringIO()
    call_command("run_scheduler", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("send_reminders: ") and " 07:45 " in lines[0]
    assert lines[1].startswith("recount_tallies: ") and " 00:10 " in lines[1]

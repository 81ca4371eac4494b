"""Delivering a reminder: email through Django's email backend, and 企业微信 / 钉钉 group robots.

send(message, session) returns "" when the message went out, or what went
wrong, in words fit for the inbox: never the webhook's address (its
access_token is a credential) nor its signing secret, which are not logged
either.

Group robots take their documented JSON:
- 企业微信 群机器人: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the robot's URL
  (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...), answered {"errcode": 0, "errmsg": "ok"};
- 钉钉 自定义机器人: POST {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}} to its URL
  (https://oapi.dingtalk.com/robot/send?access_token=...), with, when the robot signs ("加签"),
  &timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of "<timestamp>\\n<secret>" keyed by the secret>.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from ..models import Message

# 企业微信 refuses markdown content above 4096 bytes; 钉钉's limit is larger. Long digests are cut here.
MAX_CONTENT_BYTES = 4000


class Session:
    """What one run shares between deliveries: one SMTP connection, opened on first use."""

    def __init__(self):
        self._email = None

    def email(self):
        if self._email is None:
            self._email = get_connection(fail_silently=False)
            self._email.open()
        return self._email

    def close(self):
        if self._email is not None:
            with contextlib.suppress(Exception):
                self._email.close()


@contextlib.contextmanager
def session():
    current = Session()
    try:
        yield current
    finally:
        current.close()


def send(message, session):
    if message.channel == Message.Channel.EMAIL:
        return send_email(message, session)
    if message.channel in (Message.Channel.WECOM, Message.Channel.DINGTALK):
        return send_webhook(message)
    return ""


def send_email(message, session):
    address = message.user.email if message.user_id else ""
    if not address:
        return _("收件人没有邮箱地址")
    try:
        EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [address],
                     connection=session.email()).send()
    except Exception as error:  # noqa: BLE001  (any failure is recorded and retried next run)
        session._email = None
        return _("邮件发送失败：%(error)s") % {"error": f"{type(error).__name__}: {error}"}
    return ""


def markdown_lines(message):
    return [line for line in message.body.splitlines() if line]


def cut(text):
    data = text.encode("utf-8")
    if len(data) <= MAX_CONTENT_BYTES:
        return text
    return data[:MAX_CONTENT_BYTES].decode("utf-8", "ignore") + "\n……"


def wecom_payload(message):
    content = f"**{message.subject}**\n" + "\n".join(f"> {line}" for line in markdown_lines(message))
    return {"msgtype": "markdown", "markdown": {"content": cut(content)}}


def dingtalk_payload(message):
    text = f"#### {message.subject}\n\n" + "\n".join(f"- {line}" for line in markdown_lines(message))
    return {"msgtype": "markdown", "markdown": {"title": message.subject[:64], "text": cut(text)}}


def dingtalk_signed(url, secret, timestamp_ms=None):
    """The robot's URL with DingTalk's timestamp and sign parameters added."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign}"


def send_webhook(message):
    region = message.region
    if region is None or not region.webhook_url:
        return _("该地区没有配置群机器人地址")
    if message.channel == Message.Channel.WECOM:
        url, payload = region.webhook_url, wecom_payload(message)
    else:
        url, payload = region.webhook_url, dingtalk_payload(message)
        if region.webhook_secret:
            url = dingtalk_signed(url, region.webhook_secret)
    request = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.TRACKING_WEBHOOK_TIMEOUT) as response:
            answer = json.loads(response.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as error:
        return _("群机器人返回 HTTP %(status)s") % {"status": error.code}
    except (urllib.error.URLError, OSError, ValueError) as error:
        # Only the kind of failure: the URL (with its token) stays out of the message and the logs.
        reason = getattr(error, "reason", None)
        kind = type(reason).__name__ if isinstance(reason, BaseException) else type(error).__name__
        return _("群机器人无法送达（%(kind)s）") % {"kind": kind}
    if answer.get("errcode", 0) != 0:
        return _("群机器人拒绝：errcode %(code)s %(msg)s") % {
            "code": answer.get("errcode"), "msg": str(answer.get("errmsg", ""))[:200],
        }
    return ""

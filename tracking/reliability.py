"""Behaviour under faults and attack: database outages, password guessing, hostile JSON."""

import json
import logging
import re

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# user:password@ in a URL, and password=… in a libpq connection string.
CREDENTIALS = re.compile(r"(://[^:/@\s]+:)[^@\s]*@|(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def without_credentials(text):
    return CREDENTIALS.sub(lambda m: f"{m[1]}***@" if m[1] else f"{m[2]}***", text)


def error_response(request, message, status):
    """A short error for people in the admin (HTML) and for API clients (JSON, like DRF's {"detail": …})."""
    if "text/html" in request.headers.get("Accept", ""):
        page = f'<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>{status}</title><p>{escape(message)}</p>'
        return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})


class DatabaseUnavailableMiddleware:
    """Answer 503 JSON instead of a 500 page while the database cannot be reached.

    A restart or failover of PostgreSQL surfaces as OperationalError (connection
    refused, connection terminated) or InterfaceError (connection already closed).
    Clients should retry, not report a bug, and the response must not carry the
    error text, which names hosts and ports. Django drops the broken connection
    at the end of the request (CONN_HEALTH_CHECKS), so the next request after
    the database returns reconnects without restarting the workers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        # At error level, with the driver's message (which server, what failed): a
        # SQLite "no such column" is an OperationalError too, and must not hide
        # behind a retryable answer unnoticed. Credentials are cut out in case a
        # driver ever quotes its connection string.
        logger.error("database unavailable for %s %s: %s: %s", request.method, request.path,
                     type(exception).__name__, without_credentials(str(exception).strip()[:500]))
        response = error_response(request, _("数据库暂时不可用，请稍后重试"), 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class RejectNulMiddleware:
    """A NUL character in the URL is a 400 before anything looks it up.

    PostgreSQL refuses NUL in text (DataError, a 500), and lookups straight from
    the path or query (a region code in /regions/<code>/, ?region= on the
    summary, the admin's search) do not all pass a form field that would catch
    it first. No legitimate URL contains one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        in_query = any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists())
        if "\x00" in request.path or in_query:
            return error_response(request, _("请求地址中含有非法字符（NUL）"), 400)
        return self.get_response(request)


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come from an HTTP request.

    Axes refuses authenticate() calls without a request. Those never come from
    a client over the network (the admin's login form and the API's token view
    both pass it); they come from scripts and from the test client's login(),
    which should keep working, so they are left to ModelBackend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The client's address, trusting X-Forwarded-For only as far as TRUSTED_PROXIES reverse proxies added to it.

    The same rule as DRF's throttles with NUM_PROXIES, so that login lockouts
    and request throttling count the same client. Without trusted proxies the
    header is ignored: any client can write it.
    """
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR")


def login_locked_out(request, original_response=None, credentials=None):
    """Axes' answer once the failure limit is reached: 429, in Chinese, without echoing the credentials."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = _("登录失败次数过多，账户已暂时锁定，请 %(minutes)d 分钟后再试") % {"minutes": minutes}
    return error_response(request, message, 429)


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, with its errors in Chinese, and a body nested too deep a 400 rather than a 500.

    DRF's own message embeds the decoder's English text; Python's decoder
    raises RecursionError, which DRF does not catch, on a body nested a few
    thousand levels deep. (Here rather than in api.py because REST_FRAMEWORK
    names it, and api.py imports DRF's views, which read that setting.)
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as error:
            cause = error.__context__
            if isinstance(cause, json.JSONDecodeError):
                message = _("请求体不是有效的 JSON（第 %(line)d 行第 %(column)d 列）") % {
                    "line": cause.lineno, "column": cause.colno,
                }
            else:
                message = _("请求体不是有效的 JSON（不接受 NaN、Infinity 等非标准数值）")
            raise ParseError(message) from None
        except RecursionError:
            raise ParseError(_("请求体的 JSON 嵌套层数过多")) from None


class CountingThrottle:
    """DRF's rate throttles, counting requests per window with cache.incr(): the same cost at any rate.

    DRF keeps every request's timestamp of the last window in one cache entry,
    which the cache pickles and unpickles on every request: at 1,200 a minute
    a list of 1,200 floats per request, growing with the rate. Here a window
    opens at a client's first request and counts until it expires; a client
    may get up to twice the rate across two windows, which is plenty to stop
    a runaway script.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        opened = self.cache.get(self.key)
        if opened is None:
            self.cache.add(self.key, self.now, self.duration)
            opened = self.cache.get(self.key, self.now)
        counter = f"{self.key}:{opened}"
        self.cache.add(counter, 0, self.duration)
        try:
            count = self.cache.incr(counter)
        except ValueError:
            # Evicted or expired between add() and incr().
            self.cache.set(counter, 1, self.duration)
            count = 1
        self.wait_seconds = max(opened + self.duration - self.now, 0)
        return count <= self.num_requests

    def wait(self):
        return self.wait_seconds


class AnonThrottle(CountingThrottle, AnonRateThrottle):
    pass


class UserThrottle(CountingThrottle, UserRateThrottle):
    pass

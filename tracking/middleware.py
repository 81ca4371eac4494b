"""Every middleware of the app: the request log, NUL in URLs, and database and cache outages.

settings.MIDDLEWARE names them, in order; each says below why it sits where it does.
"""

import logging
import re
import time

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject, empty
from django.utils.html import escape
from django.utils.translation import gettext as _

from .logs import REQUEST_LOGGER

try:
    # The shared cache (settings.REDIS_URL); without the package no cache error can be Redis's.
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = ()

logger = logging.getLogger(__name__)
request_logger = logging.getLogger(REQUEST_LOGGER)


def _user_id(request):
    """The user's id if something already looked them up, else None.

    Looking the user up here would cost a session query on requests that never
    needed one (static files, /healthz) and would fail when the database is down.
    The admin and DRF resolve the user themselves; DRF assigns it back onto the
    Django request, so API requests made with a token are attributed too.
    """
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    return getattr(user, "pk", None)


class RequestLogMiddleware:
    """Method, path, status, duration and user id: nothing a client sent as a secret.

    The path is logged without its query string (which may carry tokens), and no
    headers or bodies are logged at all, so Authorization and passwords never
    reach the log.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user_id": _user_id(request),
                }
            },
        )
        return response


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
        if isinstance(exception, RedisError):
            # The shared cache holds the throttles: without it the API cannot answer safely.
            logger.error("cache unavailable for %s %s: %s", request.method, request.path, type(exception).__name__)
            response = error_response(request, _("缓存服务暂时不可用，请稍后重试"), 503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
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

"""One JSON line on stdout per request, and the formatter that writes it.

Log collectors (docker logs, journald, Loki) read the container's output; one
JSON object per line survives them intact, tracebacks and Chinese text included.
"""

import datetime
import json
import logging
import time

from django.utils.functional import SimpleLazyObject, empty

request_logger = logging.getLogger("tracking.requests")


class JsonLinesFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # ASCII escapes keep the line intact whatever encoding the collector assumes.
        return json.dumps(entry, default=str)


class NotRequestLog(logging.Filter):
    """Everything but the request log, which has a stream of its own."""

    def filter(self, record):
        return not record.name.startswith(request_logger.name)


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

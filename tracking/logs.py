"""JSON lines for docker logs and log collectors (settings.LOGGING names these).

Log collectors (docker logs, journald, Loki) read the container's output; one
JSON object per line survives them intact, tracebacks and Chinese text included.
"""

import datetime
import json
import logging

REQUEST_LOGGER = "tracking.requests"


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
        return not record.name.startswith(REQUEST_LOGGER)

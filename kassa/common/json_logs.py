"""LOG_FORMAT=json: each log line one JSON object, for the app's lines and gunicorn's alike.

The app's lines carry the request id that kassa.common.logs.RequestIdFilter puts on them;
gunicorn's access line is made from its atoms (method, path without the query string, status,
size, duration, the request id the app put in the response), the same fields the text line has.
Imports nothing of Django: gunicorn's master process loads it before any app.
"""

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gunicorn import glogging


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            line.update(_access_fields(record.args))
        else:
            line["request_id"] = getattr(record, "request_id", "-")
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        # ensure_ascii: a line is plain ASCII whatever a message carries (no raw control bytes).
        return json.dumps(line, default=str)


def _access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    def atom(key: str) -> Any:
        value = atoms.get(key)
        # gunicorn escapes quotes in its atoms for its text line; JSON escapes on its own.
        return value.replace('\\"', '"') if isinstance(value, str) else value

    return {
        "request_id": atom("{x-request-id}o") or "-",
        "message": "request",
        "remote": atom("h"),
        "method": atom("m"),
        "path": atom("U"),
        "status": _int(atom("s")),
        "bytes": _int(atom("B")),
        "duration_ms": _int(atom("M")),
    }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class GunicornJsonLogger(glogging.Logger):
    """gunicorn's logger, its error and access lines formatted as JSON (config/gunicorn.py
    names it as `logger_class` when LOG_FORMAT=json)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

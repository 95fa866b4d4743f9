"""One JSON object per log line, for log collectors (Loki, Elasticsearch, journald).

The grader (GRADER_LOG_FORMAT=json), the hub and the site (STUDIO_LOG_FORMAT=json in the
stack) use this formatter, so every service's lines have the same fields:

    {"time": "2026-12-01T04:30:00.123Z", "level": "INFO", "logger": "grader",
     "message": "...", "user": "...", "course": "...", "assignment": "...",
     "exc": "Traceback ..."}

``user``, ``course``, ``assignment`` and ``submission`` appear when the line carries them
(``extra=``); ``exc`` when it has a traceback. Standard library only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

LOG_FORMATS = ("text", "json")
CONTEXT_FIELDS = ("user", "course", "assignment", "submission", "service")


class JsonFormatter(logging.Formatter):
    """A logging formatter that writes each record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value not in (None, ""):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def check_log_format(value: str, setting: str) -> str:
    """``value`` lower-cased if it is a known format; else ValueError naming ``setting``."""
    v = (value or "text").strip().lower()
    if v not in LOG_FORMATS:
        raise ValueError(f"{setting}={value!r} is not a log format: use text or json")
    return v

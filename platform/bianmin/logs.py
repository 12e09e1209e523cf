"""Log lines: text for a terminal, or one JSON object per line for a log collector.

Every line carries the request it was written for (``request_id``, from ``X-Request-ID`` or made
up), the jurisdiction of the URL and the signed-in staff member's id, and its message has the
resident ID numbers and mobile phone numbers in it masked (privacy.py): logs travel further than
the database, to people with no right to read them.

    {"time": "2026-03-02T09:15:04.118+08:00", "level": "INFO", "logger": "bianmin.access",
     "message": "POST /api/jiangyin/cases 201 38ms", "request_id": "5f0c...", "jurisdiction":
     "jiangyin", "user": 17}
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from typing import Any

from .privacy import mask_text  # the one definition of what is masked in free text

# The ASGI scope of the request being served: the router writes its path parameters and the
# guard its principal into it while the request runs, so a log line always sees the latest.
current_scope: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("bianmin_scope", default=None)


def request_fields() -> dict[str, Any]:
    """``request_id``, ``jurisdiction`` and ``user`` of the request being served (empty outside one)."""
    scope = current_scope.get()
    if scope is None:
        return {}
    fields: dict[str, Any] = {"request_id": scope.get("bianmin.request_id")}
    jurisdiction = (scope.get("path_params") or {}).get("jurisdiction")
    if jurisdiction:
        fields["jurisdiction"] = jurisdiction
    principal = (scope.get("state") or {}).get("principal")
    if principal is not None:
        fields["user"] = principal.id  # the staff id: a name or phone would be personal data
    return fields


class RequestContext(logging.Filter):
    """Adds the request's fields to each record and masks personal data in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a caller's bad %-format: log it as written
            message = str(record.msg)
        record.msg, record.args = mask_text(message), None
        for key, value in request_fields().items():
            setattr(record, key, value)
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "jurisdiction", "user"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["error"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"{k}={getattr(record, k)}" for k in ("request_id", "jurisdiction", "user")
                 if getattr(record, k, None) is not None]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        text = super().format(record)
        return mask_text(text) if record.exc_info else text


def logging_config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server, uvicorn's own loggers included (uvicorn
    applies it in every worker process)."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
               "formatter": log_format, "filters": ["request"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContext}},
        "formatters": {"json": {"()": JSONFormatter}, "text": {"()": TextFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # uvicorn's loggers propagate to the root: one handler, one format.
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            # Tortoise logs every statement at DEBUG, parameters (personal data) included.
            "tortoise": {"level": "WARNING"},
            "db_client": {"level": "WARNING"},
        },
    }


def configure(log_format: str = "text", level: str = "info") -> None:
    import logging.config

    logging.config.dictConfig(logging_config(log_format, level))

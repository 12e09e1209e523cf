"""The engine's own field types, validators, actions, channels, filters and exporters.

Registered through the same hooks as any plugin (datasette's ``DEFAULT_PLUGINS``): the checker
knows ``issue_document`` exactly as it knows an action a plugin adds, and ``bianmin plugins``
lists both. Imports of engine modules stay inside the hooks so that loading plugins stays cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, BinaryIO, Iterable

from .plugins import ActionSpec, Event, FieldType, Message, hookimpl
from .privacy import mask_phone

# Field types whose values a named validator checks beyond their JSON Schema.
_VALIDATED = {"phone": "phone", "id_number": "id_number", "credit_code": "credit_code"}

# The workflow actions, with what each argument names (docs/pack-format.md, 5.19).
ACTIONS = {
    "issue_document": ActionSpec(refers={"document": "documents"}, description="issue and number a document"),
    "start_clock": ActionSpec(refers={"clock": "clocks"}, description="start a clock"),
    "pause_clock": ActionSpec(refers={"clock": "clocks"}, description="pause a clock (特别程序)"),
    "resume_clock": ActionSpec(refers={"clock": "clocks"}, description="resume a paused clock"),
    "stop_clock": ActionSpec(refers={"clock": "clocks"}, description="stop a clock"),
    "extend_clock": ActionSpec(refers={"clocks": "clocks"}, description="extend clocks (延期)"),
    "record_violation": ActionSpec(refers={"violation": "violations"}, description="record a violation"),
    "open_workflow": ActionSpec(refers={"workflow": "workflows"}, description="open a record in a workflow"),
    "notify": ActionSpec(refers={"roles": "roles"}, optional={"channels": "channels"},
                         description="notify role holders through channels, from the outbox"),
    "assign": ActionSpec(refers={"role": "roles"}, description="assign the record to a role holder"),
}


@hookimpl
def register_field_types():
    from .forms.model import FIELD_TYPES

    return {name: FieldType(validator=_VALIDATED.get(name), label=name) for name in FIELD_TYPES}


@hookimpl
def register_validators():
    from .forms.validators import check_credit_code, check_id_number, check_phone

    return {"phone": check_phone, "id_number": check_id_number, "credit_code": check_credit_code}


@hookimpl
def register_actions():
    return ACTIONS


class LogChannel:
    """Writes each message to the ``bianmin.notify`` logger: the default channel, never fails."""

    logger = logging.getLogger("bianmin.notify")

    def send(self, message: Message) -> None:
        self.logger.info("notify %s roles=%s case=%s: %s", message.id, ",".join(message.roles),
                         message.case_id, message.text)


@hookimpl
def register_channels():
    return {"log": LogChannel()}


def cn_date(value: Any) -> str:
    """A date, datetime or ISO string as 2026年1月4日; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


@hookimpl
def register_template_filters():
    return {"cn_date": cn_date, "mask_phone": mask_phone}


class JsonLinesExporter:
    """One JSON object per event and line, UTF-8: the lossless export."""

    def export(self, events: Iterable[Event], out: BinaryIO) -> None:
        for event in events:
            out.write(json.dumps(event.as_json(), ensure_ascii=False, default=str).encode("utf-8") + b"\n")


@hookimpl
def register_exporters():
    return {"jsonl": JsonLinesExporter()}

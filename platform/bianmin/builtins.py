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
    """The engine's own field types. The forms module reads these registrations as it reads a
    plugin's (names, keys, base schema, control, validator, parsing); it builds what depends on
    a field's own keys (bounds, options, rows, the materials checklist) itself."""
    from .forms import posted
    from .forms.jsonschema import CREDIT_CODE_PATTERN, DATE_PATTERN, DATETIME_PATTERN, ID_NUMBER_PATTERN, PHONE_PATTERN

    text = ("placeholder", "default", "min_length", "max_length", "pattern", "pattern_message")
    bounded = ("placeholder", "default", "min", "max")
    code = {"maxlength": "18", "autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
    string = {"type": "string"}
    return {
        "text": FieldType(string, label="单行文字", keys=text),
        "long_text": FieldType(string, label="多行文字", widget="textarea", attrs={"rows": "4"}, keys=text,
                               parse=posted.parse_long_text),
        "integer": FieldType({"type": "integer"}, label="整数", input_type="number",
                             attrs={"step": "1", "inputmode": "numeric"}, keys=bounded, parse=posted.parse_integer),
        "decimal": FieldType({"type": "number"}, label="数字", input_type="number",
                             attrs={"step": "any", "inputmode": "decimal"}, keys=bounded, parse=posted.parse_decimal),
        "date": FieldType({"type": "string", "pattern": DATE_PATTERN, "format": "date"}, label="日期",
                          input_type="date", keys=bounded),
        "datetime": FieldType({"type": "string", "pattern": DATETIME_PATTERN}, label="日期时间",
                              input_type="datetime-local", keys=bounded, parse=posted.parse_datetime),
        "enum": FieldType(string, label="单选", widget="choices", keys=("options", "options_from", "default")),
        "multi_select": FieldType({"type": "array"}, label="多选", widget="choices",
                                  keys=("options", "options_from", "default", "min_items", "max_items")),
        "boolean": FieldType({"type": "boolean"}, label="是/否", widget="choices", keys=("default",),
                             parse=posted.parse_boolean),
        "phone": FieldType({"type": "string", "pattern": PHONE_PATTERN}, validator="phone", label="联系电话",
                           input_type="tel", attrs={"autocomplete": "tel", "inputmode": "tel", "maxlength": "20"}),
        "id_number": FieldType({"type": "string", "pattern": ID_NUMBER_PATTERN}, validator="id_number",
                               label="身份证号码", attrs=code, keys=("placeholder",), parse=str.upper),
        "credit_code": FieldType({"type": "string", "pattern": CREDIT_CODE_PATTERN}, validator="credit_code",
                                 label="统一社会信用代码", attrs=code, keys=("placeholder",), parse=str.upper),
        "address": FieldType(string, label="地址", attrs={"autocomplete": "street-address"}, keys=text),
        "group": FieldType({"type": "array"}, label="重复填写的一组", widget="group",
                           keys=("fields", "min_items", "max_items")),
        "materials": FieldType({"type": "array"}, label="申请材料清单", widget="materials", keys=("source",)),
    }


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

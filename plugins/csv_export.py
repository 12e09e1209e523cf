"""csv_export: the event stream as CSV for a provincial platform, readable by Excel.

One row per committed event, in the order given, with these columns:

=============  ==========  ==================================================================
key            label       value
=============  ==========  ==================================================================
id             事件编号     the event's id
case_id        办件编号     the record's number (JY-2026-000123)
kind           环节         the transition taken (``accept``), or ``start`` for receipt
at             时间         local time, ``YYYY-MM-DD HH:MM:SS``
pack_id        政策包       the jurisdiction's pack id
pack_version   政策包版本   the pack version the record is pinned to
from_state     原状态       the state before (empty for ``start``)
to_state       新状态       the state after
actor          经办人       who took the transition (staff id)
data           数据         the form data submitted with it, as JSON (keys sorted)
=============  ==========  ==================================================================

The file is UTF-8 with a byte-order mark (Excel then reads Chinese correctly), comma-separated,
CRLF line ends, fields quoted when needed (RFC 4180). Server settings
(``plugin_settings.csv_export``): ``header: keys`` (default) or ``labels`` for the Chinese
labels; ``excel_safe: true`` (default) prefixes ``'`` to a cell starting with ``= + - @`` so that
Excel never runs a value typed by an applicant as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, BinaryIO, Iterable, Mapping

from bianmin.plugins import Config, Event, hookimpl

COLUMNS = (("id", "事件编号"), ("case_id", "办件编号"), ("kind", "环节"), ("at", "时间"), ("pack_id", "政策包"),
           ("pack_version", "政策包版本"), ("from_state", "原状态"), ("to_state", "新状态"), ("actor", "经办人"),
           ("data", "数据"))
BOM = b"\xef\xbb\xbf"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class CsvExporter:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        header = settings.get("header", "keys")
        if header not in ("keys", "labels"):
            raise ValueError(f"plugin_settings.csv_export.header is {header!r}; use keys or labels")
        self.labels = header == "labels"
        self.excel_safe = bool(settings.get("excel_safe", True))

    def row(self, event: Event) -> list[str]:
        values = {
            **{key: str(getattr(event, key)) for key, _ in COLUMNS if key not in ("at", "data")},
            "at": event.at.isoformat(sep=" ", timespec="seconds"),
            "data": json.dumps(dict(event.data), ensure_ascii=False, sort_keys=True, default=str),
        }
        return [self.cell(values[key]) for key, _ in COLUMNS]

    def cell(self, value: str) -> str:
        return "'" + value if self.excel_safe and value.startswith(_FORMULA) else value

    def export(self, events: Iterable[Event], out: BinaryIO) -> None:
        out.write(BOM)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow([label if self.labels else key for key, label in COLUMNS])
            for event in events:
                writer.writerow(self.row(event))
            text.flush()
        finally:
            text.detach()  # the caller's stream stays open


@hookimpl
def register_exporters(config: Config):
    return {"csv": CsvExporter(config.settings("csv_export"))}

"""dev_outbox: a development notifier that keeps every message in a JSON-lines file.

Enable it (``BIANMIN_PLUGINS=dev_outbox``) and name it in ``notify`` actions (``channels:
[dev_outbox]``) or make it the default channel (``default_channels: [dev_outbox]`` in the server
config). Each delivered message, and each committed event when ``events`` is true, becomes one
line of ``var/dev_outbox.jsonl`` (setting ``path``, relative to the project home)::

    {"at": "2026-01-05T09:30:00", "type": "message", "id": "17", "text": "...", "roles": [...], ...}

``DevOutbox.page(number, size)`` pages through them newest first, for a development page.
Never use it in production: the file is neither rotated nor protected.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from bianmin.plugins import Config, Event, Message, hookimpl

DEFAULT_PATH = "var/dev_outbox.jsonl"


class DevOutbox:
    """The channel: appends one JSON line per message; reads them back a page at a time."""

    _lock = threading.Lock()  # deliveries run on worker threads

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        self.append({"type": "message", **message.as_json()})

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"at": dt.datetime.now().isoformat(timespec="seconds"), **entry},
                          ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with self._lock:
            lines = self.path.read_text("utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def page(self, number: int = 1, size: int = 50) -> tuple[list[dict[str, Any]], int]:
        """Page ``number`` (from 1) of ``size`` entries, newest first, and the total count."""
        entries = self.entries()[::-1]
        start = (max(number, 1) - 1) * size
        return entries[start:start + size], len(entries)


def outbox_for(config: Config) -> DevOutbox:
    path = Path(str(config.settings("dev_outbox").get("path", DEFAULT_PATH)))
    return DevOutbox(path if path.is_absolute() else config.home / path)


@hookimpl
def register_channels(config):
    return {"dev_outbox": outbox_for(config)}


@hookimpl
def on_event(event: Event, config: Config) -> None:
    if config.settings("dev_outbox").get("events", True):
        outbox_for(config).append({"type": "event", **event.as_json()})

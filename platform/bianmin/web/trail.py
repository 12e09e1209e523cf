"""The audit trail: sign-ins, refusals and every action, as rows of ``audit_log`` and log lines.

    await trail.record("transition", request, number=number, transition="accept")
    await trail.record("rating", request, tx=tx, number=number)     # inside the action's transaction

Each entry is one row of the append-only ``audit_log`` table (a trigger refuses UPDATE and
DELETE, migration 0005) and one JSON line of the logger ``bianmin.audit``. Where the web owns the
action's transaction (ratings, backup posts) the entry is written in it, so the action and its
entry commit together; after a store call (intake, transition, open_record, whose transaction the
store owns) it is written right after the commit. Personal data in the details is masked
(``bianmin.privacy.mask_details``): an entry never holds an ID number or a phone number whole.

The jurisdiction is the route's; a sign-in names none, so it is written once per jurisdiction
the account holds roles in (each jurisdiction's supervisors see their staff's sign-ins). A
failed sign-in with an unknown user name belongs to no jurisdiction: it is kept with
``jurisdiction = ''`` and in the log, and listed on no jurisdiction's page.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import HTTPConnection
from tortoise.backends.base.client import BaseDBAsyncClient

from ..privacy import mask_details, mask_text
from ..store import db

log = logging.getLogger("bianmin.audit")

# Events of the trail and their names on the audit page.
EVENTS: dict[str, str] = {
    "sign_in": "登录", "sign_in_failed": "登录失败", "sign_out": "退出",
    "denied": "拒绝访问", "csrf_refused": "拒绝表单(CSRF)",
    "case_create": "收件", "transition": "办理操作", "record_open": "登记",
    "complaint_create": "投诉", "rating": "评价",
    "pack_upload": "上传政策包", "pack_activate": "启用政策包",
    "backup_start": "开始顶岗", "backup_end": "结束顶岗", "staff_phone": "修改联系电话",
    "appraisal_marks": "考核评分", "deduction_record": "登记违规", "deduction_statement": "陈述申辩",
    "deduction_decide": "扣分决定",
}

INSERT = ("INSERT INTO audit_log (at, jurisdiction, event, staff_id, username, acting_for, ip, path, number, "
          "details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

Hook = Callable[[BaseDBAsyncClient], Awaitable[None]]


async def record(event: str, request: HTTPConnection | None = None, *, tx: BaseDBAsyncClient | None = None,
                 jurisdiction: str | None = None, jurisdictions: Iterable[str] | None = None,
                 staff_id: int | None = None, username: str | None = None, number: str = "",
                 **details: Any) -> None:
    """Write one entry (one per jurisdiction with ``jurisdictions``) and its log line.

    Who acted comes from the request's principal unless ``staff_id``/``username`` are given (a
    sign-in); the jurisdiction from the route unless given. With ``tx`` the entry is part of
    that transaction; without, it is written on its own and a failure to write it is logged
    rather than raised: the action it records is already committed.
    """
    rows = _rows(event, request, jurisdiction, jurisdictions, staff_id, username, number, details)
    for row in rows:
        log.info(json.dumps(_line(row), ensure_ascii=False, default=str))
    if tx is not None:
        await _write(tx, rows)
        return
    try:
        await _write(db.connection(), rows)
    except Exception:  # noqa: BLE001 - the action stands; the log line above still tells it
        log.exception("audit entry %s not stored", event)


def hook(event: str, request: HTTPConnection | None = None, **kwargs: Any) -> Hook:
    """The entry as a callable taking the transaction: for a store call that accepts one, so the
    entry commits with the action (``audit=trail.hook("transition", request, number=n)``)."""

    async def write(tx: BaseDBAsyncClient) -> None:
        await record(event, request, tx=tx, **kwargs)

    return write


def _rows(event: str, request: HTTPConnection | None, jurisdiction: str | None,
          jurisdictions: Iterable[str] | None, staff_id: int | None, username: str | None, number: str,
          details: Mapping[str, Any]) -> list[list[Any]]:
    principal = getattr(request.state, "principal", None) if request is not None else None
    if jurisdiction is None and request is not None:
        jurisdiction = request.path_params.get("jurisdiction")
    if staff_id is None and principal is not None:
        staff_id = principal.id
    if username is None:
        username = principal.username if principal is not None else ""
    acting_for = None
    if principal is not None and jurisdiction:
        covering = principal.covering.get(jurisdiction, ())
        acting_for = ",".join(str(sid) for sid, _name, _roles in covering) or None
    ip = request.client.host if request is not None and request.client else ""
    path = request.url.path[:200] if request is not None else ""
    places = sorted(set(jurisdictions)) if jurisdictions is not None else [jurisdiction or ""]
    at = dt.datetime.now().replace(microsecond=0)
    masked = mask_details(details)
    return [[at, place or "", event[:32], staff_id, mask_text(username)[:64], acting_for, ip[:64], path,
             str(number or "")[:48], json.dumps(masked, ensure_ascii=False, default=str)]
            for place in (places or [""])]


async def _write(conn: BaseDBAsyncClient, rows: list[list[Any]]) -> None:
    if len(rows) == 1:
        await db.execute(conn, INSERT, rows[0])
    else:
        await db.execute_many(conn, INSERT, rows)


def _line(row: list[Any]) -> dict[str, Any]:
    at, jurisdiction, event, staff_id, username, acting_for, ip, path, number, details = row
    line: dict[str, Any] = {"at": at.isoformat(), "event": event, "ip": ip}
    for key, value in (("jurisdiction", jurisdiction), ("staff", staff_id), ("username", username),
                       ("acting_for", acting_for), ("path", path), ("number", number)):
        if value not in ("", None):
            line[key] = value
    line.update(json.loads(details))
    return line


async def listing(jurisdiction: str, *, event: str = "", username: str = "", number: str = "",
                  start: dt.date | None = None, end: dt.date | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The entries of one jurisdiction, newest first, filtered (the audit page)."""
    where, params = ["jurisdiction = ?"], [jurisdiction]
    if event:
        where.append("event = ?")
        params.append(event)
    if username:
        where.append("username = ?")
        params.append(username)
    if number:
        where.append("number = ?")
        params.append(number)
    if start is not None:
        where.append("at >= ?")
        params.append(dt.datetime.combine(start, dt.time()))
    if end is not None:
        where.append("at < ?")
        params.append(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    rows = await db.fetch(db.connection(), "SELECT id, at, jurisdiction, event, staff_id, username, acting_for, ip, "
                          f"path, number, details FROM audit_log WHERE {' AND '.join(where)} "
                          f"ORDER BY at DESC, id DESC LIMIT {int(limit)}", params)
    for row in rows:
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"])
        if isinstance(row["at"], str):
            row["at"] = dt.datetime.fromisoformat(row["at"])
    return rows

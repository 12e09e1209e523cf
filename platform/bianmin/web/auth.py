"""Who is asking: staff signed in by session cookie, integrators by API token, or nobody.

Sessions are Starlette's signed cookie (itsdangerous; HttpOnly, SameSite=Lax, 8 hours) holding
only the staff id, the account's session epoch at sign-in and the CSRF token; roles are read from
the database (cached for ``PRINCIPAL_TTL``). Signing out adds one to ``Staff.session_epoch``, and a
session whose epoch is not the account's current one is signed out: a copied cookie dies with the
sign-out, on every worker. The epoch and the active flag are read on every session request, even
when the roles are cached, so a deactivated account's sessions end at once too. API tokens are signed
(itsdangerous, salt ``api-token``) ``{"uid": id}`` values, sent as ``Authorization: Bearer``;
they carry no roles either, and a token is refused once its account is inactive or
``TOKEN_MAX_AGE`` has passed. Sign-ins, sign-outs and refused sign-ins are audited (trail.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection

from ..store import db
from ..workflow import Actor
from . import passwords

TOKEN_MAX_AGE = 365 * 24 * 3600
SESSION_MAX_AGE = 8 * 3600
# Roles are read from the database at most every PRINCIPAL_TTL seconds per account and process:
# a role taken away takes effect within that time (a sign-out or a deactivation at once: the
# session's epoch check reads the account every request). Reading the roles on every request
# cost a third of the desk's throughput (bench/bench_web.py).
PRINCIPAL_TTL = 5.0
PRINCIPAL_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Principal:
    """A staff member (or integrator account) with their roles per jurisdiction.

    ``covering`` maps a jurisdiction to the staff members this one stands in for (backup post,
    AB岗): their roles count as this principal's while the backup assignment is open.
    """

    id: int
    username: str
    name: str
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    covering: dict[str, tuple[tuple[int, str, frozenset[str]], ...]] = field(default_factory=dict)
    via: str = "session"
    phone: str = ""  # the account's phone (Staff.phone): printed as the clerk's on documents
    epoch: int = 0  # Staff.session_epoch when loaded: a session signed in at another is dead

    def roles_in(self, jurisdiction: str) -> frozenset[str]:
        own = self.roles.get(jurisdiction, frozenset())
        for _sid, _name, roles in self.covering.get(jurisdiction, ()):
            own = own | roles
        return own

    def jurisdictions(self) -> list[str]:
        return sorted(set(self.roles) | set(self.covering))

    def actor(self, jurisdiction: str) -> Actor:
        covering = self.covering.get(jurisdiction, ())
        return Actor(str(self.id), self.name, self.roles_in(jurisdiction),
                     acting_for=str(covering[0][0]) if covering else None)


def token_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="api-token")


def issue_token(secret: str, staff_id: int) -> str:
    return token_serializer(secret).dumps({"uid": staff_id})


def token_staff_id(secret: str, token: str) -> int | None:
    try:
        data = token_serializer(secret).loads(token, max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return None
    uid = data.get("uid") if isinstance(data, dict) else None
    return uid if isinstance(uid, int) else None


class PrincipalCache:
    """Principals by staff id for ``PRINCIPAL_TTL`` seconds (one per application)."""

    def __init__(self, ttl: float = PRINCIPAL_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._entries: dict[int, tuple[float, Principal | None]] = {}

    async def get(self, staff_id: int, via: str, *, fresh_epoch: bool = False) -> Principal | None:
        """The principal, its roles possibly ``ttl`` old. With ``fresh_epoch`` (sessions) a cached
        principal's epoch and active flag are read again: one primary-key lookup, since a
        sign-out on another worker must end the session at once."""
        now = self.clock()
        hit = self._entries.get(staff_id)
        if hit is not None and hit[0] > now:
            principal = hit[1]
            if principal is not None and fresh_epoch:
                current = await session_epoch(staff_id)
                if current is None:  # deactivated since
                    self._entries.pop(staff_id, None)
                    return None
                if current != principal.epoch:
                    principal = dataclasses.replace(principal, epoch=current)
                    self._entries[staff_id] = (hit[0], principal)
        else:
            principal = await load_principal(staff_id)
            if len(self._entries) >= PRINCIPAL_CACHE_SIZE:
                self._entries.clear()
            self._entries[staff_id] = (now + self.ttl, principal)
        if principal is not None and principal.via != via:
            principal = dataclasses.replace(principal, via=via)
        return principal

    def forget(self, staff_id: int | None = None) -> None:
        """Drop cached roles (all, or one account's): after this process changed them itself."""
        if staff_id is None:
            self._entries.clear()
        else:
            self._entries.pop(staff_id, None)


_EPOCH = "SELECT session_epoch FROM staff WHERE id = ? AND active"


def _epoch(staff_id: int) -> Any:
    rows = yield db.Fetch(_EPOCH, [staff_id])
    return rows[0]["session_epoch"] if rows else None


async def session_epoch(staff_id: int) -> int | None:
    """The account's current session epoch; None when it is inactive or gone. It is read on
    every session request: on SQLite a program runs inline, without the round trip to
    aiosqlite's thread an ORM query costs (half the desk's throughput, bench/bench_web.py); on
    PostgreSQL one statement, outside a transaction."""
    conn = db.connection()
    if db.dialect(conn) == "sqlite":
        return await db.read(_epoch, staff_id)
    rows = await db.fetch(conn, _EPOCH, [staff_id])
    return rows[0]["session_epoch"] if rows else None


async def end_sessions(staff_id: int, tx: Any = None) -> None:
    """Every session of the account signed in so far stops working (sign-out)."""
    from tortoise.expressions import F

    from ..store.models import Staff

    query = Staff.filter(id=staff_id)
    await (query.using_db(tx) if tx is not None else query).update(session_epoch=F("session_epoch") + 1)


async def load_principal(staff_id: int, via: str = "session") -> Principal | None:
    from ..store.models import BackupAssignment, RoleAssignment, Staff

    staff = await Staff.get_or_none(id=staff_id, active=True)
    if staff is None:
        return None
    roles: dict[str, set[str]] = {}
    for row in await RoleAssignment.filter(staff_id=staff_id):
        roles.setdefault(row.jurisdiction_id, set()).add(row.role)
    covering: dict[str, list[tuple[int, str, frozenset[str]]]] = {}
    now = dt.datetime.now()
    for cover in await BackupAssignment.filter(backup_id=staff_id, starts_at__lte=now).prefetch_related("absent"):
        if cover.ends_at is not None and cover.ends_at <= now:
            continue
        theirs = frozenset(r.role for r in await RoleAssignment.filter(
            staff_id=cover.absent_id, jurisdiction_id=cover.jurisdiction_id))
        covering.setdefault(cover.jurisdiction_id, []).append(
            (cover.absent_id, cover.absent.display_name, theirs))
    return Principal(staff.id, staff.username, staff.display_name,
                     {j: frozenset(r) for j, r in roles.items()},
                     {j: tuple(c) for j, c in covering.items()}, via, staff.phone or "", staff.session_epoch)


async def principal_of(conn: HTTPConnection, *, api: bool, secret: str,
                       cache: PrincipalCache | None = None) -> Principal | None:
    """The API reads only the bearer token (no cookies, so no CSRF); pages only the session,
    which counts only while its epoch is the account's (see the module docstring)."""
    if api:
        header = conn.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        uid = token_staff_id(secret, token.strip())
        via, epoch = "token", None
    else:
        uid, via, epoch = conn.session.get("uid"), "session", conn.session.get("epoch", 0)
    if not isinstance(uid, int):
        return None
    if cache is not None:
        principal = await cache.get(uid, via, fresh_epoch=epoch is not None)
    else:
        principal = await load_principal(uid, via)
    if principal is not None and epoch is not None and principal.epoch != epoch:
        return None  # signed out since (this copy of the cookie or another)
    return principal


async def authenticate(username: str, password: str) -> Any:
    """The (active) Staff row for a right user name and password, else None; uniform timing for
    unknown names."""
    from ..store.models import Staff

    staff = await Staff.get_or_none(username=username, active=True)
    stored = staff.password_hash if staff is not None and staff.password_hash else passwords.DUMMY_HASH
    ok = passwords.verify_password(password, stored)
    return staff if ok and staff is not None else None

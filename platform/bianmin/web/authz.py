"""The one place that decides who may use which route: role × jurisdiction.

Every route is declared with an :class:`Access` (routes/__init__.py); :func:`guard` wraps its
endpoint so that no handler runs before the decision, and the authorization matrix test reads
the same declarations. Rules:

* ``public``: anybody, signed in or not;
* ``staff``: anybody holding a role in the route's ``{jurisdiction}`` (any jurisdiction when the
  path names none);
* ``roles``: one of the listed roles *in that jurisdiction*; ``pack_roles`` adds roles a pack
  names (``negative_report.review_roles``, ``complaints.confidential.visible_to``).

Roles of a colleague one stands in for (backup post) count as one's own. Staff of one county
never pass for another county's routes, whatever their roles there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..packs.model import Pack
from .auth import Principal

Endpoint = Callable[[Request], Awaitable[Response]]
PackRoles = Callable[[Pack], tuple[str, ...]]


@dataclass(frozen=True)
class Access:
    kind: str  # public | staff | roles
    roles: tuple[str, ...] = ()
    pack_roles: PackRoles | None = None

    def describe(self) -> str:
        return self.kind if self.kind != "roles" else "roles:" + ",".join(self.roles)


PUBLIC = Access("public")
STAFF = Access("staff")


def roles(*names: str, pack_roles: PackRoles | None = None) -> Access:
    return Access("roles", tuple(names), pack_roles)


def allowed_roles(access: Access, pack: Pack | None) -> frozenset[str]:
    extra = access.pack_roles(pack) if access.pack_roles and pack is not None else ()
    return frozenset(access.roles) | frozenset(extra)


def decide(principal: Principal | None, access: Access, jurisdiction: str | None, pack: Pack | None) -> bool:
    if access.kind == "public":
        return True
    if principal is None:
        return False
    if jurisdiction is None:
        held = frozenset().union(*(principal.roles_in(j) for j in principal.jurisdictions()))
    else:
        held = principal.roles_in(jurisdiction)
    if access.kind == "staff":
        return bool(held)
    return bool(held & allowed_roles(access, pack))


def may(principal: Principal | None, jurisdiction: str, pack: Pack, *names: str,
        pack_roles: PackRoles | None = None) -> bool:
    """For what a page shows (not whether it opens): e.g. the complainant's identity."""
    return decide(principal, roles(*names, pack_roles=pack_roles), jurisdiction, pack)


def confidential_roles(pack: Pack) -> tuple[str, ...]:
    rule = pack.complaints.confidential
    return rule.visible_to if rule else ("complaint_officer",)


def review_roles(pack: Pack) -> tuple[str, ...]:
    rule = pack.negative_report
    return rule.review_roles if rule and rule.review_roles else ("leader",)


def attach(endpoint: Endpoint, access: Access, *, api: bool = False) -> Any:
    """Mark ``endpoint`` with its access rule; ``guard`` (in app.py's route builder) enforces it."""
    endpoint.access = access  # type: ignore[attr-defined]
    endpoint.api = api  # type: ignore[attr-defined]
    return endpoint

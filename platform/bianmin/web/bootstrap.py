"""First run: register every jurisdiction and pack version; with ``--demo``, demo staff and cases.

Demo accounts are ``<jurisdiction>-<role>`` for the roles a newcomer needs to click through,
each with a random password printed once (only when the staff table is empty), and one
integrator account per jurisdiction whose API token is printed too.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from ..packs.model import Pack
from ..store import archive, db, intake, records
from ..store.models import RoleAssignment, Staff
from . import auth, passwords, services
from .context import Web

DEMO_ROLES = ("clerk", "window_head", "unit_head", "leader", "supervisor", "complaint_officer", "policy_officer")
DEMO_APPLICANTS = (
    {"applicant_type": "person", "applicant_name": "张三", "id_number": "11010519491231002X", "phone": "13812345678"},
    {"applicant_type": "person", "applicant_name": "李四", "id_number": "110105194912310086", "phone": "13987654321"},
)


async def register_packs(web: Web) -> None:
    now = dt.datetime.now().replace(microsecond=0)
    async with db.transaction() as tx:
        for jurisdiction in web.registry.jurisdictions():
            for pack in web.registry.versions(jurisdiction):
                await records.ensure_jurisdiction(tx, pack, now)
    # Archive the versions the files produce; restore the archived ones they no longer do, so
    # cases pinned to them keep their rules (store/archive.py; warnings are logged).
    await archive.startup(web.registry, web.policies, uploads=web.uploads)


async def create_staff(username: str, password: str, display_name: str,
                       roles: Iterable[tuple[str, str]], phone: str = "") -> Staff:
    """A staff account with ``(jurisdiction, role)`` assignments."""
    staff = await Staff.create(username=username, display_name=display_name, phone=phone,
                               password_hash=passwords.hash_password(password),
                               created_at=dt.datetime.now().replace(microsecond=0))
    for jurisdiction, role in roles:
        await RoleAssignment.create(staff=staff, jurisdiction_id=jurisdiction, role=role)
    return staff


async def demo(web: Web, out: list[str] | None = None) -> list[str]:
    """Demo accounts and sample cases, once: nothing happens when staff already exist."""
    lines: list[str] = out if out is not None else []
    if await Staff.exists():
        return lines
    lines.append("demo accounts (shown once; change the passwords):")
    for pack in web.jurisdictions():
        clerk = None
        for role in dict.fromkeys((*DEMO_ROLES, *_review_roles(pack))):
            if role not in {r.id for r in pack.roles}:
                continue
            password = secrets.token_urlsafe(9)
            name = f"{pack.name}{pack.role(role).name}"
            staff = await create_staff(f"{pack.id}-{role}", password, name, [(pack.id, role)])
            clerk = staff if role == "clerk" else clerk
            lines.append(f"  {pack.id}-{role:<20} {password}")
        integrator = await create_staff(f"{pack.id}-api", secrets.token_urlsafe(24), f"{pack.name}接口账号",
                                        [(pack.id, "clerk")])
        lines.append(f"  API token for {pack.id}: {auth.issue_token(web.secret, integrator.id)}")
        if clerk is not None:
            await _sample_cases(pack, clerk, web)
    for line in lines:
        print(line, flush=True)
    return lines


def _review_roles(pack: Pack) -> tuple[str, ...]:
    return pack.negative_report.review_roles if pack.negative_report else ()


async def _sample_cases(pack: Pack, clerk: Staff, web: Web) -> None:
    promised = [i for i in pack.items if i.kind == "promised"] or list(pack.items)
    actor = (await auth.load_principal(clerk.id)).actor(pack.id)  # type: ignore[union-attr]
    now = dt.datetime.now().replace(microsecond=0)
    for applicant, item in zip(DEMO_APPLICANTS, promised):
        subject = {**applicant, "delivery": "window",
                   "materials": [{"id": m.id, "received": True, "pages": 1} for m in item.materials]}
        result = await intake(pack.id, item.id, subject, actor, {}, now, registry=web.registry,
                              renderer=services.renderer(None, actor, phone=clerk.phone))
        await services.issue_receipt(result, actor, None, phone=clerk.phone)

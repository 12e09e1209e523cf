"""The route table: every route with its access rule (authz.py), in one list.

Order matters: the fixed prefixes (``/staff``, ``/admin``, ``/api``) come before the public
``/{jurisdiction}`` pages. The authorization matrix test walks this list.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def all_routes() -> list[BaseRoute]:
    from . import admin, api, appraisal, audit, deductions, public, signin, staff

    return [*signin.routes(), *staff.routes(), *audit.routes(), *deductions.routes(), *appraisal.routes(),
            *admin.routes(), *api.routes(), *public.routes()]

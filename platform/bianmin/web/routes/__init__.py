"""The route table: every route with its access rule (authz.py), in one list.

Order matters: the fixed prefixes (``/staff``, ``/admin``, ``/api``) come before the public
``/{jurisdiction}`` pages. The authorization matrix test walks this list.
"""

from __future__ import annotations

from starlette.routing import Route


def all_routes() -> list[Route]:
    from . import admin, api, public, signin, staff

    return [*signin.routes(), *staff.routes(), *admin.routes(), *api.routes(), *public.routes()]

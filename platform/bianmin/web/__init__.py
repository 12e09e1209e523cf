"""The web application: staff desk, public pages, policy-officer console and the JSON API.

Public surface::

    create_app(db_url=None, *, policies=None, secret=None, demo=False) -> Starlette

See docs/web.md.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]

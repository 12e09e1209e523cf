"""CSRF protection for form posts: one random token per session (synchronizer token pattern).

Every page form carries the token in a hidden ``csrf_token`` field (or a script sends it as
``X-CSRF-Token``); every unsafe request to a page route is refused unless it matches the
session's token. The session cookie is also SameSite=Lax, a second line. The JSON API takes no
cookies (bearer tokens only), so it needs no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token(request: Request) -> str:
    """The session's token, made on first use."""
    value = request.session.get("csrf")
    if not isinstance(value, str):
        value = request.session["csrf"] = secrets.token_urlsafe(32)
    return value


async def verify(request: Request) -> bool:
    expected = request.session.get("csrf")
    if not isinstance(expected, str):
        return False
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()  # cached on the request: the endpoint reads it again for free
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())

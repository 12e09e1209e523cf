"""Pages from the UI templates (trusted engine code: a plain autoescaping Jinja2 environment,
not the pack sandbox), and the error responses of pages and of the API."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from . import csrf
from .i18n import DEFAULT, Translator

TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def environment() -> jinja2.Environment:
    from ..privacy import mask_id_number, mask_name, mask_phone

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(mask_phone=mask_phone, mask_id=mask_id_number, mask_name=mask_name, when=_when)
    return env


def _when(value: Any) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "hour") else value.isoformat()


def translator(request: Request) -> Translator:
    return Translator(request.session.get("lang", DEFAULT) if "session" in request.scope else DEFAULT)


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    t = translator(request)
    html = environment().get_template(name).render(
        request=request, _=t, lang=t.html_lang, csrf_token=csrf.token(request),
        principal=getattr(request.state, "principal", None), **values)
    return HTMLResponse(html, status_code=status)


def error_json(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's one error shape: ``{"error": {"code", "message", "fields": [{"path", "message"}]}}``."""
    return JSONResponse({"error": {"code": code, "message": message, "fields": fields or []}},
                        status_code=status, headers=headers)


def error_page(request: Request, status: int, message_key: str) -> Response:
    t = translator(request)
    return render(request, "error.html", status=status, status_code=status, message=t(message_key))

"""ASGI middleware: request ids and access log, database outages, size limits, security headers.

:class:`RequestMiddleware` (outermost) takes ``X-Request-ID`` from the proxy or makes one up,
returns it on the response, makes it and the request's jurisdiction and staff member part of
every log line written while serving it (logs.py), writes one access line per request, and
answers a request the database could not serve (PostgreSQL restarting, pool timeout) with a
clean 503 instead of a stack trace.

Bodies are limited before any handler reads them: a declared ``Content-Length`` over the limit is
refused at once (413), and a body streamed without one is cut off when it passes the limit.
The default is 1 MiB (``BIANMIN_MAX_BODY``); pack uploads (``/admin/``) may be 8 MiB
(``BIANMIN_MAX_UPLOAD``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import logs

DEFAULT_LIMIT = 1024 * 1024
UPLOAD_LIMIT = 8 * 1024 * 1024
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                 b"script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
]


class TooLarge(Exception):
    pass


def limit_for(path: str, max_body: int = DEFAULT_LIMIT, max_upload: int = UPLOAD_LIMIT) -> int:
    return max_upload if path.startswith("/admin/") else max_body


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_LIMIT, max_upload: int = UPLOAD_LIMIT) -> None:
        self.app = app
        self.max_body, self.max_upload = max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.max_body, self.max_upload)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge()
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except TooLarge:
            if not started:
                await _too_large(scope, send, limit)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "too_large", "message": f"请求体超过 {limit // 1024} KiB 的上限",
                                 "fields": []}}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": body})


# --- request ids, access log, database outages --------------------------------------------------

access_log = logging.getLogger("bianmin.access")
log = logging.getLogger("bianmin.web")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNAVAILABLE_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>503 服务暂时不可用</title>
<link rel="stylesheet" href="/static/bianmin.css"></head>
<body><main><h1>503</h1><p class="notice bad">系统暂时无法访问数据库, 请稍后再试。您提交的内容如未显示成功, 请重新提交。</p>
<p><a href="/">返回首页</a></p></main></body></html>
"""


def _causes(exc: BaseException):
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def _lost(exc: BaseException) -> bool:
    from ..store.db import lost_connection

    return any(lost_connection(e) for e in _causes(exc))


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached right now, as
    opposed to a bug or bad data: the connection was lost, refused, timed out or shut down."""
    import asyncpg
    from tortoise.exceptions import DBConnectionError

    from ..store.db import lost_connection

    kinds = (DBConnectionError, asyncpg.exceptions.OperatorInterventionError,
             asyncpg.exceptions.TooManyConnectionsError, TimeoutError, asyncio.TimeoutError)
    return any(lost_connection(e) or (isinstance(e, kinds) and not isinstance(e, asyncpg.exceptions.QueryCanceledError))
               for e in _causes(exc))


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope["bianmin.request_id"] = request_id
        token = logs.current_scope.set(scope)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        received: list[Message] = []

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        async def replaying_receive() -> Message:
            return received.pop(0) if received else await receive()

        try:
            try:
                await self.app(scope, recording_receive, send_with_id)
            except Exception as exc:
                # A read that met a connection the database had closed (restart) is tried once
                # more on a fresh one: it changed nothing. Writes are not replayed.
                if response_started or scope["method"] not in ("GET", "HEAD") or not _lost(exc):
                    raise
                log.info("retrying a read after %s", type(exc).__name__)
                await self.app(scope, replaying_receive, send_with_id)
        except Exception as exc:
            if response_started or not database_unavailable(exc):
                raise
            log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
            await _unavailable(scope, send_with_id)
        finally:
            if not scope["path"].startswith(("/static/", "/healthz")):
                access_log.info("%s %s %s %dms", scope["method"], scope["path"], status,
                                round((time.perf_counter() - started) * 1000))
            logs.current_scope.reset(token)


async def _unavailable(scope: Scope, send: Send) -> None:
    if scope["path"].startswith("/api/") or b"application/json" in dict(scope["headers"]).get(b"accept", b""):
        body = json.dumps({"error": {"code": "unavailable", "message": "数据库暂时不可用, 请稍后重试",
                                     "fields": []}}, ensure_ascii=False).encode()
        kind = b"application/json; charset=utf-8"
    else:
        body, kind = UNAVAILABLE_HTML.encode(), b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"5"), (b"cache-control", b"no-store"), *HEADERS]})
    await send({"type": "http.response.body", "body": body})

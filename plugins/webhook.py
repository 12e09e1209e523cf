"""webhook: signed HTTP POSTs of notifications and committed events to an integrator's endpoint.

Server settings (``plugin_settings.webhook`` in the server config)::

    url: https://gateway.example.gov.cn/bianmin       # required
    secret_env: BIANMIN_WEBHOOK_SECRET                # the variable holding the shared secret (or `secret:`)
    timeout: 10                                       # seconds per request
    events: true                                      # also POST every committed event (on_event)
    use_proxy: true                                   # honour http(s)_proxy from the environment

Every request is JSON (UTF-8) with these headers::

    X-Bianmin-Timestamp: 1767576600                   # Unix seconds when it was signed
    X-Bianmin-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
    X-Bianmin-Delivery: <outbox row id>               # the same on every retry: drop duplicates

The timestamp is inside the signed text, so it cannot be changed; a receiver rejects a request
whose timestamp is more than ``tolerance`` (300 s) away from its clock, and so a captured request
cannot be replayed later. :func:`verify` does both checks. Any answer other than 2xx, a redirect,
or no answer in time is a failure: the outbox retries with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

from bianmin import __version__
from bianmin.plugins import Config, Event, Message, hookimpl

SIGNATURE = "X-Bianmin-Signature"
TIMESTAMP = "X-Bianmin-Timestamp"
DELIVERY = "X-Bianmin-Delivery"
TOLERANCE = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Bianmin-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, body: bytes, signature: str | None, timestamp: str | None, *,
           now: float | None = None, tolerance: int = TOLERANCE) -> bool:
    """True when ``signature`` is ``body``'s at ``timestamp`` and the timestamp is recent."""
    if not signature or not timestamp or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer we did not ask for: fail, and retry later


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    timeout: float = 10.0
    use_proxy: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Webhook:
        url = settings.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("plugin_settings.webhook.url must be an http:// or https:// address")
        secret = settings.get("secret")
        if "secret_env" in settings:
            secret = os.environ.get(str(settings["secret_env"]))
            if not secret:
                raise ValueError(f"the variable {settings['secret_env']} (plugin_settings.webhook.secret_env) is not set")
        if not isinstance(secret, str) or not secret:
            raise ValueError("plugin_settings.webhook needs `secret_env` (or `secret`): the shared secret")
        return cls(url, secret, float(settings.get("timeout", 10)), bool(settings.get("use_proxy", True)))

    def post(self, delivery: str, document: Mapping[str, Any]) -> int:
        """POST ``document`` signed; the HTTP status, or an exception for anything but 2xx."""
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
        timestamp = int(time.time())
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": f"bianmin/{__version__}",
            TIMESTAMP: str(timestamp), SIGNATURE: sign(self.secret, timestamp, body), DELIVERY: delivery,
        })
        handlers: list[Any] = [_NoRedirect()]
        if not self.use_proxy:
            handlers.append(urllib.request.ProxyHandler({}))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection
            raise ConnectionError(f"{self.url} answered {exc.code} {exc.reason}") from None
        if not 200 <= status < 300:
            raise ConnectionError(f"{self.url} answered {status}")
        return status

    def send(self, message: Message) -> None:
        self.post(message.id, {"type": "message", "message": message.as_json()})


@hookimpl
def register_channels(config: Config):
    return {"webhook": Webhook.from_settings(config.settings("webhook"))}


@hookimpl
def on_event(event: Event, config: Config) -> None:
    settings = config.settings("webhook")
    if settings.get("events", True):
        Webhook.from_settings(settings).post(f"event-{event.id}", {"type": "event", "event": event.as_json()})

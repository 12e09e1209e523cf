"""sms: notifications as text messages, through a pluggable gateway adapter.

Server settings (``plugin_settings.sms`` in the server config)::

    provider: fake                      # or "module:factory" returning an SmsProvider (providers.py)
    sign: 江阴市政务服务中心             # the registered signature, printed as 【...】
    template: "【{{ sign }}】{{ message.text }}"
    role_phones:                        # who holds a role, when the engine gives no numbers
      window_head: ["13800000000"]

The template is Jinja2 in a sandbox (no Python internals, an unknown name is an error) with
autoescape off, since a text message is not HTML. It sees ``message`` (``text``, ``subject``,
``roles``, ``case_id``, ``pack_id``, ``data``) and ``sign``, and the built-in filters
(``cn_date``, ``mask_phone``). A message goes to its ``recipients`` that are mobile numbers, else to
the ``role_phones`` of its roles; a message with no number at all fails visibly in the outbox.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Mapping

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bianmin.builtins import cn_date, mask_phone
from bianmin.plugins import Config, Message, hookimpl

from .providers import FakeSmsProvider, SmsProvider, provider_from

__all__ = ["FakeSmsProvider", "SmsChannel", "SmsProvider"]

MOBILE = re.compile(r"^1[3-9]\d{9}$")
DEFAULT_TEMPLATE = "【{{ sign }}】{{ message.text }}"


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
    env.filters.update(cn_date=cn_date, mask_phone=mask_phone)
    return env


class SmsChannel:
    def __init__(self, provider: SmsProvider, settings: Mapping[str, Any]) -> None:
        self.provider = provider
        self.sign = str(settings.get("sign", ""))
        self.template = _environment().from_string(str(settings.get("template", DEFAULT_TEMPLATE)))
        self.role_phones = {role: tuple(phones) for role, phones in (settings.get("role_phones") or {}).items()}
        # (message id, phone) already sent by this process: a retry after a partial failure does
        # not text the same person twice.
        self._sent: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def text(self, message: Message) -> str:
        return self.template.render(message=message, sign=self.sign).strip()

    def phones(self, message: Message) -> list[str]:
        direct = [r for r in message.recipients if MOBILE.match(r)]
        by_role = [p for role in message.roles for p in self.role_phones.get(role, ())]
        return list(dict.fromkeys(direct or by_role))

    def send(self, message: Message) -> None:
        phones = self.phones(message)
        if not phones:
            raise LookupError(f"no mobile number for roles {', '.join(message.roles) or '-'}: give recipients "
                              "or set plugin_settings.sms.role_phones")
        text = self.text(message)
        for phone in phones:
            with self._lock:
                if (message.id, phone) in self._sent:
                    continue
            self.provider.send(phone, text)
            with self._lock:
                self._sent.add((message.id, phone))


@hookimpl
def register_channels(config: Config):
    settings = config.settings("sms")
    return {"sms": SmsChannel(provider_from(settings), settings)}

"""SMS gateways: the :class:`SmsProvider` protocol an adapter implements, and a fake for tests.

An adapter for a real gateway (a province's SMS platform, a carrier's API) is a class with one
method, ``send(phone, text) -> str``: it returns the gateway's message id, and raises on any
failure (the outbox retries). Name a factory for it in the settings, ``provider:
"mypackage.sms:make_provider"``; the factory receives the plugin's settings mapping.
"""

from __future__ import annotations

import importlib
import itertools
import threading
from typing import Any, Callable, Mapping, Protocol


class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Send ``text`` to ``phone`` (11-digit mainland mobile); the provider's message id.
        Raise on failure: a refused number, a gateway error, no answer."""


class FakeSmsProvider:
    """Keeps what it is asked to send in ``sent``; ``fail_next`` makes the next calls raise."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail_next = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> str:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise ConnectionError("fake SMS gateway: unavailable")
            message_id = f"fake-{next(self._ids)}"
            self.sent.append((phone, text, message_id))
            return message_id


def provider_from(settings: Mapping[str, Any]) -> SmsProvider:
    """The provider named by ``settings["provider"]``: ``fake``, or ``module:factory``."""
    name = str(settings.get("provider", "fake"))
    if name == "fake":
        return FakeSmsProvider(settings)
    module_name, _, attribute = name.partition(":")
    if not attribute:
        raise ValueError(f"plugin_settings.sms.provider {name!r}: write `fake` or `module:factory`")
    factory: Callable[[Mapping[str, Any]], SmsProvider] = getattr(importlib.import_module(module_name), attribute)
    return factory(settings)

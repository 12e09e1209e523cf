"""What the application holds for its whole life: packs, secret, templates, rate limiter."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..packs import Registry
from ..packs.model import Pack
from ..packs.problems import Problem
from ..packs.registry import UnknownPack
from .auth import PrincipalCache
from .ratelimit import RateLimiter


@dataclass
class Web:
    registry: Registry
    problems: list[Problem]
    policies: Path
    uploads: Path  # accepted pack uploads: <uploads>/<jurisdiction>/<hash>/ (never policies/)
    secret: str
    db_url: str
    https_only: bool = False
    limiter: RateLimiter = field(default_factory=RateLimiter)
    principals: PrincipalCache = field(default_factory=PrincipalCache)

    def pack(self, jurisdiction: str, on: dt.date | None = None) -> Pack | None:
        try:
            return self.registry.active(jurisdiction, on)
        except UnknownPack:
            return None

    def jurisdictions(self) -> list[Pack]:
        return [p for p in (self.pack(j) for j in self.registry.jurisdictions()) if p is not None]


def load_secret(var: Path) -> str:
    """``$BIANMIN_SECRET``, else a random key kept in ``var/secret`` (sessions survive restarts)."""
    env = os.environ.get("BIANMIN_SECRET")
    if env:
        return env
    path = var / "secret"
    if path.is_file():
        return path.read_text().strip()
    var.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value

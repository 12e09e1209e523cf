"""Server settings from environment variables: the one list of them (docs/deploy.md#environment).

Precedence: a command-line flag, else the environment variable, else the default below.
:meth:`Settings.from_env` reads and checks every variable at once, and a bad value stops the start
with a message naming the variable and the form it accepts. ``bianmin serve`` writes the
resolved settings back into the environment (:meth:`Settings.to_env`) before uvicorn starts its
worker processes, which build the app from it (``bianmin.web.app:app_from_env``).

Plugins keep their own variables (``BIANMIN_PLUGINS``, ``BIANMIN_CONFIG``; docs/plugins.md),
read by :func:`bianmin.plugins.load_config`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

MIN_SECRET_LENGTH = 32
KIB = 1024
MIB = 1024 * 1024
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class ConfigError(ValueError):
    """A setting with a value the server cannot run with; the message names the variable."""


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    form: str  # what the variable accepts, for the error message and the docs
    default: str  # the default as the docs print it
    doc: str


# The documented list, in the order of docs/deploy.md. ``alias`` variables are the older names,
# still read when the new one is unset.
VARIABLES = (
    Variable("BIANMIN_DB_URL", "db_url", "sqlite:///path/file.sqlite3 or postgres://user:password@host:5432/db",
             "sqlite://$BIANMIN_HOME/var/bianmin.sqlite3", "the database (older name: BIANMIN_DB)"),
    Variable("BIANMIN_SECRET_KEY", "secret_key", f"a random string of at least {MIN_SECRET_LENGTH} characters",
             "a key kept in $BIANMIN_VAR/secret (one worker only)",
             "signs session cookies; the same on every worker and host (older name: BIANMIN_SECRET)"),
    Variable("BIANMIN_POLICIES", "policies", "a folder", "$BIANMIN_HOME/policies", "the policy packs"),
    Variable("BIANMIN_HOST", "host", "an address to listen on", "127.0.0.1", "listen address"),
    Variable("BIANMIN_PORT", "port", "a port number 1-65535", "8000", "listen port"),
    Variable("BIANMIN_WORKERS", "workers", "a whole number 1-64", "1", "web worker processes"),
    Variable("BIANMIN_FORWARDED_ALLOW_IPS", "forwarded_allow_ips",
             "comma-separated proxy addresses, or empty", "(empty: X-Forwarded-* ignored)",
             "the reverse proxies whose X-Forwarded-For/-Proto are trusted"),
    Variable("BIANMIN_HTTPS_ONLY", "https_only", "1/0, true/false, yes/no", "0",
             "mark the session cookie Secure (set behind a TLS proxy)"),
    Variable("BIANMIN_SWEEP_INTERVAL", "sweep_interval", "seconds, a whole number; 0 disables", "300",
             "how often each web worker runs the deadline sweep in the background"),
    Variable("BIANMIN_LOG_FORMAT", "log_format", "json or text", "text", "json: one JSON object per line"),
    Variable("BIANMIN_LOG_LEVEL", "log_level", "debug, info, warning, error or critical", "info", "log level"),
    Variable("BIANMIN_MAX_BODY", "max_body", "bytes, or with K/M (KiB/MiB): 1M", "1M",
             "largest request body; nginx client_max_body_size must be at least this"),
    Variable("BIANMIN_MAX_UPLOAD", "max_upload", "bytes, or with K/M (KiB/MiB): 8M", "8M",
             "largest request body under /admin/ (pack uploads)"),
    Variable("BIANMIN_DB_POOL_MIN", "db_pool_min", "a whole number 0-1000", "1",
             "PostgreSQL connections each process keeps open"),
    Variable("BIANMIN_DB_POOL_MAX", "db_pool_max", "a whole number 1-1000", "10",
             "PostgreSQL connections each process may open"),
    Variable("BIANMIN_DB_CONNECT_TIMEOUT", "db_connect_timeout", "seconds, a number > 0", "5",
             "give up connecting to PostgreSQL after this"),
    Variable("BIANMIN_DB_COMMAND_TIMEOUT", "db_command_timeout", "seconds, a number > 0", "30",
             "give up on one PostgreSQL statement after this"),
)
ALIASES = {"BIANMIN_DB_URL": "BIANMIN_DB", "BIANMIN_SECRET_KEY": "BIANMIN_SECRET"}
_BY_FIELD = {v.field: v for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    db_url: str
    policies: Path
    var: Path  # $BIANMIN_HOME/var
    secret_key: str | None = None  # None: the key file in var/ (one worker on one host)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    forwarded_allow_ips: str = ""
    https_only: bool = False
    sweep_interval: int = 300
    log_format: str = "text"
    log_level: str = "info"
    max_body: int = 1 * MIB
    max_upload: int = 8 * MIB
    db_pool_min: int = 1
    db_pool_max: int = 10
    db_connect_timeout: float = 5.0
    db_command_timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings of ``environ`` (default ``os.environ``); ``overrides`` (command-line flags,
        already typed; ``None`` means not given) win over it."""
        env = os.environ if environ is None else environ
        from . import paths

        home = Path(env["BIANMIN_HOME"]) if env.get("BIANMIN_HOME") else paths.home()
        values: dict[str, Any] = {
            "db_url": f"sqlite://{home / 'var' / 'bianmin.sqlite3'}",
            "policies": home / "policies",
            "var": home / "var",  # uploads and the generated key: where `bianmin sweep` looks too
        }
        for variable in VARIABLES:
            raw = _read(env, variable.name)
            if raw is not None:
                values[variable.field] = _PARSERS[variable.field](variable, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """What holds between settings, checked once they are all known."""
        from .store.db import DatabaseURLError, dialect_of

        try:
            dialect_of(self.db_url)
        except DatabaseURLError as exc:
            raise ConfigError(f"BIANMIN_DB_URL: {exc}") from None
        if self.workers > 1 and not self.secret_key:
            raise ConfigError(
                f"BIANMIN_SECRET_KEY is required with {self.workers} workers: every worker must sign "
                "session cookies with the same key, or a clerk signed in on one is signed out on the "
                "next. Set it on every worker and host, e.g. to the output of "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        if self.db_pool_min > self.db_pool_max:
            raise ConfigError(f"BIANMIN_DB_POOL_MIN ({self.db_pool_min}) is larger than "
                              f"BIANMIN_DB_POOL_MAX ({self.db_pool_max})")
        if self.max_upload < self.max_body:
            raise ConfigError(f"BIANMIN_MAX_UPLOAD ({self.max_upload} bytes) is smaller than "
                              f"BIANMIN_MAX_BODY ({self.max_body} bytes)")

    def to_env(self) -> dict[str, str]:
        """The environment that gives these settings back through :meth:`from_env`."""
        out: dict[str, str] = {}
        for variable in VARIABLES:
            value = getattr(self, variable.field)
            if value is None:
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            out[variable.name] = str(value)
        return out


def _read(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    alias = ALIASES.get(name)
    old = env.get(alias) if alias else None
    if value is not None and value.strip():
        if old and old.strip() and old.strip() != value.strip():
            raise ConfigError(f"{name} and {alias} (its older name) are both set, to different values: "
                              f"unset {alias}")
        return value.strip()
    if old is not None and old.strip():
        return old.strip()
    return value.strip() if value is not None else None


def _bad(variable: Variable, raw: str) -> ConfigError:
    shown = "(hidden)" if variable.field == "secret_key" else repr(raw)
    return ConfigError(f"{variable.name}: expected {variable.form}, found {shown}")


def _text(variable: Variable, raw: str) -> str:
    if not raw:
        raise _bad(variable, raw)
    return raw


def _path(variable: Variable, raw: str) -> Path:
    return Path(_text(variable, raw))


def _secret(variable: Variable, raw: str) -> str:
    if len(raw) < MIN_SECRET_LENGTH:
        raise _bad(variable, raw)
    return raw


def _int_in(low: int, high: int):
    def parse(variable: Variable, raw: str) -> int:
        if not re.fullmatch(r"\d+", raw) or not low <= int(raw) <= high:
            raise _bad(variable, raw)
        return int(raw)
    return parse


def _seconds(variable: Variable, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _bad(variable, raw) from None
    if not value > 0 or value != value or value == float("inf"):
        raise _bad(variable, raw)
    return value


def _bool(variable: Variable, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise _bad(variable, raw)


def _choice(choices: tuple[str, ...]):
    def parse(variable: Variable, raw: str) -> str:
        if raw.lower() not in choices:
            raise _bad(variable, raw)
        return raw.lower()
    return parse


def parse_size(text: str) -> int | None:
    """``1048576``, ``1024K``, ``1M``, ``1MiB``, ``8m`` as bytes; ``None`` when not a size."""
    match = re.fullmatch(r"(\d+)\s*(?:(k|m)(?:i?b)?|b)?", text.strip(), re.IGNORECASE)
    if not match:
        return None
    return int(match[1]) * {None: 1, "k": KIB, "m": MIB}[match[2] and match[2].lower()]


def _size(variable: Variable, raw: str) -> int:
    value = parse_size(raw)
    if value is None or value < 1024:
        raise _bad(variable, raw)
    return value


def _addresses(variable: Variable, raw: str) -> str:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p == "*" or re.fullmatch(r"[0-9A-Fa-f.:/]+", p) for p in parts):
        raise _bad(variable, raw)
    return ",".join(parts)


_PARSERS = {
    "db_url": _text, "secret_key": _secret, "policies": _path, "host": _text,
    "port": _int_in(1, 65535), "workers": _int_in(1, 64), "forwarded_allow_ips": _addresses,
    "https_only": _bool, "sweep_interval": _int_in(0, 7 * 24 * 3600), "log_format": _choice(LOG_FORMATS),
    "log_level": _choice(LOG_LEVELS), "max_body": _size, "max_upload": _size,
    "db_pool_min": _int_in(0, 1000), "db_pool_max": _int_in(1, 1000),
    "db_connect_timeout": _seconds, "db_command_timeout": _seconds,
}
assert set(_PARSERS) == set(_BY_FIELD), "every variable has a parser"


def pool_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The asyncpg pool options (Tortoise credentials) of the ``BIANMIN_DB_*`` variables alone:
    what every command connecting to PostgreSQL uses, the web server included."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {f: getattr(Settings, f) for f in
                              ("db_pool_min", "db_pool_max", "db_connect_timeout", "db_command_timeout")}
    for name in values:
        variable = _BY_FIELD[name]
        raw = _read(env, variable.name)
        if raw:
            values[name] = _PARSERS[name](variable, raw)
    if values["db_pool_min"] > values["db_pool_max"]:
        raise ConfigError(f"BIANMIN_DB_POOL_MIN ({values['db_pool_min']}) is larger than "
                          f"BIANMIN_DB_POOL_MAX ({values['db_pool_max']})")
    return {"minsize": values["db_pool_min"], "maxsize": values["db_pool_max"],
            "timeout": values["db_connect_timeout"], "command_timeout": values["db_command_timeout"]}

"""The plugin contract: hook specifications, the values they exchange, and the plugin manager.

Policy officers never write Python: every new kind of behaviour (an SMS gateway, a WeChat
channel, a guard function, an exporter for the provincial platform) is a plugin that packs can
name. The whole contract is this file (datasette's ``hookspecs.py``); ``docs/plugins.md`` is the
guide. A plugin is a module (or any object) with functions marked ``@hookimpl`` and named after
the hooks below; an implementation may take any subset of its hook's arguments.

Where plugins come from, in this order (a name may be loaded once):

1. ``bianmin.builtins``: the engine's own field types, actions, channels ... (``DEFAULT_PLUGINS``);
2. installed packages declaring an entry point in the ``bianmin`` group;
3. modules or packages in ``plugins/`` (and ``plugin_dirs`` of the server config), enabled by
   name: ``BIANMIN_PLUGINS=webhook,sms``, or a ``plugins:`` list in the server config file.

A plugin never runs inside a case transition: notifications and ``on_event`` run from the
durable outbox after the transaction commits (``bianmin.notify``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import importlib
import inspect
import os
import re
import sys
import types
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, NamedTuple, Protocol

import pluggy


__all__ = [
    "ActionSpec", "Actor", "AuthBackend", "Channel", "Config", "DEFAULT_PLUGINS", "Event", "Exporter",
    "FIELD_KEYS", "FIELD_WIDGETS", "FieldType", "Message", "PLAIN_KEYS", "PluginError", "Plugins", "get_plugins",
    "hookimpl", "import_local", "load", "load_config", "use_plugins",
]

PROJECT = "bianmin"
ENTRY_POINT_GROUP = "bianmin"
DEFAULT_PLUGINS = ("bianmin.builtins",)
CONFIG_FILE = "bianmin.yaml"
LOCAL_PACKAGE = "bianmin_local_plugins"  # modules of plugins/ import as bianmin_local_plugins.<name>
NAME = re.compile(r"^[a-z][a-z0-9_.]*$")

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginError(Exception):
    """A plugin could not be loaded or broke the contract; the message names plugin and hook."""


# --- values of the contract --------------------------------------------------------------------

def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def _thaw(value: Any) -> Any:
    """A plain, independent copy of a (frozen) mapping's JSON-like content."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


# The keys a form field may have besides id, label, type, required, required_when, when and help
# (docs/forms.md). A field type lists those that apply to it in `FieldType.keys`; any type may
# take PLAIN_KEYS, the others mean something only to the engine's own types (bianmin.forms).
FIELD_KEYS = ("placeholder", "default", "min_length", "max_length", "pattern", "pattern_message",
              "min", "max", "options", "options_from", "min_items", "max_items", "fields", "source")
PLAIN_KEYS = FIELD_KEYS[:6]
# The HTML controls: a plugin's type is an `input` or a `textarea`; `choices` (radios, checkboxes,
# a select), `group` (repeated rows) and `materials` (the checklist) are the engine's own.
FIELD_WIDGETS = ("input", "textarea", "choices", "group", "materials")
INPUT_TYPES = ("text", "tel", "email", "url", "number", "date", "datetime-local", "time", "month", "search")
# Attributes the forms module writes itself (or that would run script): not for `attrs`.
_OWN_ATTRIBUTES = frozenset({"id", "name", "type", "value", "class", "style", "form", "required", "hidden"})
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class FieldType:
    """A kind of form field (`type:` in a form); ``docs/plugins.md`` section 3 has an example.

    ``schema``: the JSON Schema of one value; the forms module adds the field's title, help and
    keys (``min_length`` becomes ``minLength`` ...). ``validator``: a registered validator's name,
    run on a value the schema accepted; its (Chinese) message is the field's error. ``message``:
    what a value the schema rejects is told (应为13位数字). ``label``: the type's name for people.
    ``widget``, ``input_type``, ``attrs``: the HTML control (``<input type=...>`` with these static
    attributes, or a ``textarea``). ``keys``: the optional form keys a field of this type may
    have. ``parse``: the text a browser posts to the value (``int``, ``str.upper``); it gets the
    text stripped and may raise ValueError (the text is kept, and the schema names the field).
    """

    schema: Mapping[str, Any] = field(default_factory=dict)
    validator: str | None = None
    label: str = ""
    message: str = ""
    widget: str = "input"
    input_type: str = "text"
    attrs: Mapping[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ("placeholder", "default")
    parse: Callable[[str], Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", _frozen_map(self.schema))
        object.__setattr__(self, "attrs", _frozen_map(self.attrs))
        object.__setattr__(self, "keys", tuple(self.keys))

    def problem(self, own: bool = False) -> str | None:
        """What is wrong with this registration, or None. ``own``: one of the engine's types,
        which may use the engine's widgets and keys."""
        widgets = FIELD_WIDGETS if own else FIELD_WIDGETS[:2]
        keys = FIELD_KEYS if own else PLAIN_KEYS
        if self.widget not in widgets:
            return f"has widget {self.widget!r}; a field type's widget is one of: {', '.join(widgets)}"
        if self.input_type not in INPUT_TYPES:
            return f"has input_type {self.input_type!r}; use one of: {', '.join(INPUT_TYPES)}"
        wrong = [k for k in self.keys if k not in keys]
        if wrong:
            return (f"lists keys {', '.join(map(repr, wrong))}; a plugin's field type may take: {', '.join(keys)}"
                    if not own else f"lists unknown keys {', '.join(map(repr, wrong))}")
        for name, value in self.attrs.items():
            if not _ATTRIBUTE.match(str(name)) or name in _OWN_ATTRIBUTES or str(name).startswith(("on", "aria-", "data-")):
                return f"sets attribute {name!r}, which the forms module writes itself or which would run script"
            if not isinstance(value, str):
                return f"sets attribute {name!r} to {value!r}: attribute values are text"
        if self.parse is not None and not callable(self.parse):
            return "has a parse that is not callable"
        return _json_schema(_thaw(self.schema))


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A workflow action packs name in ``do:``.

    ``refers`` maps each required argument (``with:`` key) to what it names: a pack section
    (``documents``, ``clocks``, ``roles`` ...) or a plugin registry (``channels``, ``exporters``);
    ``optional`` does the same for arguments that may be left out. ``function`` is the pure part
    the workflow interpreter runs inside the transition, ``function(instance, args, event) ->
    list[Effect]``; None emits one effect named after the action, carrying its arguments (the
    engine's own actions are implemented by the interpreter itself). ``deliver(payload)`` is the
    side effect, run from the outbox after the transition commits; raise to be retried.
    """

    function: Callable[..., Any] | None = None
    refers: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)
    deliver: Callable[[Mapping[str, Any]], Any] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "refers", _frozen_map(self.refers))
        object.__setattr__(self, "optional", _frozen_map(self.optional))


@dataclass(frozen=True, slots=True)
class Message:
    """One notification, as a channel receives it (built from an outbox row).

    ``id`` is the outbox row's id: pass it on (a header, a provider's client reference) so the
    receiver can drop the duplicate of a retried delivery.
    """

    id: str
    text: str
    subject: str = ""
    roles: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # addresses resolved by the engine: phone numbers, user ids
    case_id: str = ""
    pack_id: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen_map(self.data))

    @classmethod
    def from_payload(cls, id: str, payload: Mapping[str, Any]) -> Message:
        """From an outbox row's payload; keys it does not name (``event_seq``, ``timer``, an
        action's other arguments) are kept in ``data``."""
        known = {"text", "message", "subject", "roles", "recipients", "case_id", "record", "pack_id", "data",
                 "channels", "delivered"}
        extra = {k: v for k, v in payload.items() if k not in known}
        return cls(
            id=str(id), text=str(payload.get("text") or payload.get("message") or ""),
            subject=str(payload.get("subject") or ""), roles=tuple(payload.get("roles") or ()),
            recipients=tuple(payload.get("recipients") or ()),
            case_id=str(payload.get("case_id") or payload.get("record") or ""),
            pack_id=str(payload.get("pack_id") or ""), data={**extra, **(payload.get("data") or {})},
        )

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "subject": self.subject, "roles": list(self.roles),
                "recipients": list(self.recipients), "case_id": self.case_id, "pack_id": self.pack_id,
                "data": dict(self.data)}


@dataclass(frozen=True, slots=True)
class Event:
    """The summary of one committed state change (``on_event``, exporters)."""

    id: str
    case_id: str
    kind: str  # the transition taken, or `start` for the creation of the record
    at: dt.datetime
    pack_id: str = ""
    pack_version: str = ""
    from_state: str = ""
    to_state: str = ""
    actor: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen_map(self.data))

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Event:
        at = payload.get("at")
        return cls(
            id=str(payload.get("id") or ""), case_id=str(payload.get("case_id") or ""),
            kind=str(payload.get("kind") or payload.get("transition") or ""),
            at=at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at)),
            pack_id=str(payload.get("pack_id") or ""), pack_version=str(payload.get("pack_version") or ""),
            from_state=str(payload.get("from_state") or ""), to_state=str(payload.get("to_state") or ""),
            actor=str(payload.get("actor") or ""), data=payload.get("data") or {},
        )

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "kind": self.kind, "at": self.at.isoformat(),
                "pack_id": self.pack_id, "pack_version": self.pack_version, "from_state": self.from_state,
                "to_state": self.to_state, "actor": self.actor, "data": dict(self.data)}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a request acts for, as an auth backend establishes it."""

    id: str
    name: str = ""
    roles: tuple[str, ...] = ()
    posts: tuple[str, ...] = ()


class Channel(Protocol):
    """Delivers messages; ``send`` raises on failure (the outbox retries). May be ``async def``."""

    def send(self, message: Message) -> None: ...


class Exporter(Protocol):
    """Writes events to a binary stream, in its own format and encoding."""

    def export(self, events: Iterable[Event], out: BinaryIO) -> None: ...


class AuthBackend(Protocol):
    """Recognises the person behind a web request, or returns None to let the next backend try."""

    def authenticate(self, request: Any) -> Actor | None: ...


# --- hook specifications -----------------------------------------------------------------------
# Every hook takes `config` (the server configuration: `config.settings("<plugin>")` holds a
# plugin's own settings); an implementation lists only the arguments it uses.

@hookspec
def register_field_types(config):
    """Field types forms may use: return ``{name: FieldType}``.

    config: the server :class:`Config`.
    """


@hookspec
def register_validators(config):
    """Named value checks: return ``{name: check}``, ``check(value) -> str | None`` (a message when wrong).

    config: the server :class:`Config`.
    """


@hookspec
def register_guard_functions(config):
    """Functions guard expressions may call, exposed in the sandbox: return ``{name: function}``.

    config: the server :class:`Config`.
    """


@hookspec
def register_actions(config):
    """Workflow actions packs may name in ``do:``: return ``{name: ActionSpec}``.

    config: the server :class:`Config`.
    """


@hookspec
def register_channels(config):
    """Notification channels: return ``{name: channel}``, ``channel.send(message) -> None`` raising on failure.

    config: the server :class:`Config`.
    """


@hookspec
def register_template_filters(config):
    """Jinja2 filters for documents and message templates, added to the sandbox: return ``{name: function}``.

    config: the server :class:`Config`.
    """


@hookspec
def register_exporters(config):
    """Exporters of the event stream: return ``{name: exporter}``, ``exporter.export(events, out)``.

    config: the server :class:`Config`.
    """


@hookspec
def on_event(event, config):
    """Called from the outbox after a transition commits, never inside it; raise to be retried.

    event: the :class:`Event` committed.
    config: the server :class:`Config`.
    """


@hookspec
def register_auth_backends(config):
    """Web authentication: return ``{name: backend}``, ``backend.authenticate(request) -> Actor | None``.

    config: the server :class:`Config`.
    """


@hookspec
def extend_pack_schema(config):
    """Pack settings a plugin reads: return ``{key: JSON Schema}`` validating ``plugins: {key: ...}`` of a pack.

    config: the server :class:`Config`.
    """


HOOKS = tuple(name for name, value in list(globals().items()) if hasattr(value, f"{PROJECT}_spec"))


# --- configuration -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    """Which plugins to load, from where, and their server-side settings (secrets live here,
    never in packs, which are public and hashed)."""

    enabled: tuple[str, ...] = ()
    dirs: tuple[Path, ...] = ()
    plugin_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_channels: tuple[str, ...] = ("log",)
    home: Path = Path(".")
    source: str = "defaults"  # where `enabled` came from, for messages
    file: Path | None = None  # the server config file read, if any
    entry_points: bool = True

    def settings(self, plugin: str) -> Mapping[str, Any]:
        """The settings of one plugin (``plugin_settings: {<plugin>: ...}``), empty when none."""
        return self.plugin_settings.get(plugin, MappingProxyType({}))


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The server configuration: ``BIANMIN_CONFIG`` (default ``bianmin.yaml`` in the project home)
    and ``BIANMIN_PLUGINS``, which replaces the file's ``plugins:`` list."""
    from . import paths

    env = os.environ if environ is None else environ
    home = Path(env["BIANMIN_HOME"]) if env.get("BIANMIN_HOME") else paths.home()
    path = Path(env["BIANMIN_CONFIG"]) if env.get("BIANMIN_CONFIG") else home / CONFIG_FILE
    read = bool(env.get("BIANMIN_CONFIG")) or path.is_file()
    raw = _read_config(path) if read else {}
    enabled = _names(raw.get("plugins", ()), f"{path}: plugins")
    source = str(path) if read else "defaults"
    if env.get("BIANMIN_PLUGINS") is not None:
        enabled = _names([n.strip() for n in env["BIANMIN_PLUGINS"].split(",") if n.strip()], "BIANMIN_PLUGINS")
        source = "BIANMIN_PLUGINS"
    dirs = tuple(path.parent / d for d in _strings(raw.get("plugin_dirs", ()), f"{path}: plugin_dirs"))
    settings = raw.get("plugin_settings", {})
    if not isinstance(settings, Mapping) or not all(isinstance(v, Mapping) for v in settings.values()):
        raise PluginError(f"{path}: plugin_settings must map plugin names to mappings of settings")
    return Config(
        enabled=enabled, dirs=(*dirs, home / "plugins"),
        plugin_settings=MappingProxyType({k: _frozen_map(v) for k, v in settings.items()}),
        default_channels=_names(raw.get("default_channels", ("log",)), f"{path}: default_channels", "channel names"),
        home=home, source=source, file=path if read else None,
    )


def _read_config(path: Path) -> Mapping[str, Any]:
    from .packs.loader import LoadError, Map, load_file

    try:
        raw = load_file(path)
    except LoadError as exc:
        raise PluginError(f"{exc.mark.file}:{exc.mark.line}:{exc.mark.column}: {exc.message}") from None
    except OSError as exc:
        raise PluginError(f"{path}: cannot read the server config: {exc.strerror}") from None
    if not isinstance(raw, Map):
        raise PluginError(f"{path}: the server config is a mapping (plugins:, plugin_settings: ...)")
    return raw


def _names(value: Any, where: str, what: str = "plugin names") -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(n, str) and NAME.match(n) for n in value):
        raise PluginError(f"{where}: expected a list of {what} (lower-case, e.g. webhook), found {value!r}")
    return tuple(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(n, str) for n in value):
        raise PluginError(f"{where}: expected a list of folders, found {value!r}")
    return tuple(value)


# --- the plugin manager ------------------------------------------------------------------------

class Registered(NamedTuple):
    plugin: str
    value: Any


def _has(method: str) -> Callable[[Any], str | None]:
    return lambda v: None if callable(getattr(v, method, None)) else f"needs a {method}() method"


def _instance(cls: type) -> Callable[[Any], str | None]:
    return lambda v: None if isinstance(v, cls) else f"must be a bianmin.plugins.{cls.__name__}"


def _callable(value: Any) -> str | None:
    return None if callable(value) else "must be callable"


def _json_schema(value: Any) -> str | None:
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(value)
    except jsonschema.SchemaError as exc:
        return f"is not a valid JSON Schema: {exc.message}"
    return None


# hook → (what one entry is called in messages, plural used as registry name, value check)
REGISTRIES: dict[str, tuple[str, str, Callable[[Any], str | None]]] = {
    "register_field_types": ("field type", "field_types", _instance(FieldType)),
    "register_validators": ("validator", "validators", _callable),
    "register_guard_functions": ("guard function", "guard_functions", _callable),
    "register_actions": ("action", "actions", _instance(ActionSpec)),
    "register_channels": ("channel", "channels", _has("send")),
    "register_template_filters": ("template filter", "template_filters", _callable),
    "register_exporters": ("exporter", "exporters", _has("export")),
    "register_auth_backends": ("auth backend", "auth_backends", _has("authenticate")),
    "extend_pack_schema": ("pack settings key", "pack_schemas", _json_schema),
}


def _reserved(hook: str) -> frozenset[str]:
    """Names a plugin may not take: they would change what every template and guard means."""
    from jinja2 import defaults

    if hook == "register_guard_functions":
        return frozenset(defaults.DEFAULT_NAMESPACE)
    if hook == "register_template_filters":
        return frozenset(defaults.DEFAULT_FILTERS)
    return frozenset()


def _engine_field_types() -> tuple[str, ...]:
    """The field types bianmin.forms implements itself (enum, group ...): only they may use the
    engine's widgets and keys."""
    from .forms.model import FIELD_TYPES

    return FIELD_TYPES


REGISTRY_HOOK = {plural: hook for hook, (_, plural, _) in REGISTRIES.items()}


class Plugins:
    """The plugins of one process: a pluggy manager and everything its hooks registered.

    Build it with :func:`load`; the registries are computed at load, so a broken plugin fails
    there, with its name, and not halfway through a request.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.manager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(sys.modules[__name__])
        self.origins: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self._registries: dict[str, dict[str, Registered]] = {}
        self._catalogue: dict[str, dict[str, set[str]]] | None = None

    # -- registration ---------------------------------------------------------------------------

    def register(self, plugin: Any, name: str, origin: str) -> None:
        """Register one plugin after checking its hook names and arguments against the specs."""
        self._check(plugin, name)
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(f"plugin {name!r}: {exc}") from None
        self.origins[name] = origin

    def _check(self, plugin: Any, name: str) -> None:
        for attr in dir(plugin):
            opts = self.manager.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            hook = opts.get("specname") or attr
            caller = getattr(self.manager.hook, hook, None)
            if caller is None or caller.spec is None:
                if opts.get("optionalhook"):
                    continue
                close = difflib.get_close_matches(hook, HOOKS, n=1)
                tail = f"; did you mean {close[0]!r}?" if close else f"; hooks: {', '.join(HOOKS)}"
                raise PluginError(f"plugin {name!r}: unknown hook {hook!r}{tail}")
            allowed = caller.spec.argnames
            for param in inspect.signature(getattr(plugin, attr)).parameters.values():
                if param.default is param.empty and param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) \
                        and param.name not in allowed:
                    raise PluginError(f"plugin {name!r}: hook {hook} has an unknown argument {param.name!r}; "
                                      f"its arguments are: {', '.join(allowed)}")

    def finish(self, strict: bool = True) -> Plugins:
        """Verify every hook implementation found a spec, then compute the registries."""
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {self.manager.get_name(exc.plugin)!r}: {exc}") from None
        for hook in REGISTRIES:
            try:
                self._registries[hook] = self._collect(hook)
            except PluginError:
                if strict:
                    raise
                self._registries[hook] = {}
        validators = self._registries["register_validators"]
        for key, entry in list(self._registries["register_field_types"].items()):
            name = entry.value.validator
            if name is not None and name not in validators:
                if strict:
                    raise PluginError(f"plugin {entry.plugin!r}: hook register_field_types: field type {key!r} "
                                      f"names validator {name!r}, which no loaded plugin registers "
                                      "(register_validators)")
                del self._registries["register_field_types"][key]
        return self

    def _collect(self, hook: str) -> dict[str, Registered]:
        what, _, check = REGISTRIES[hook]
        found: dict[str, Registered] = {}
        for impl in getattr(self.manager.hook, hook).get_hookimpls():  # in registration order
            result = self.call(impl, hook, config=self.config)
            if result is None:
                continue
            if not isinstance(result, Mapping):
                raise PluginError(f"plugin {impl.plugin_name!r}: hook {hook} must return a mapping "
                                  f"{{name: {what}}}, not {type(result).__name__}")
            for key, value in result.items():
                if not isinstance(key, str) or not NAME.match(key):
                    raise PluginError(f"plugin {impl.plugin_name!r}: hook {hook}: {key!r} is not a valid "
                                      "name (lower-case letters, digits, _ and .)")
                if key in found:
                    raise PluginError(f"plugin {impl.plugin_name!r}: hook {hook}: {what} {key!r} is already "
                                      f"provided by plugin {found[key].plugin!r}")
                if key in _reserved(hook):
                    raise PluginError(f"plugin {impl.plugin_name!r}: hook {hook}: {what} {key!r} would replace "
                                      "Jinja2's own; choose another name")
                problem = check(value)
                if not problem and hook == "register_field_types":
                    problem = value.problem(own=key in _engine_field_types())
                if problem:
                    raise PluginError(f"plugin {impl.plugin_name!r}: hook {hook}: {what} {key!r} {problem}")
                found[key] = Registered(impl.plugin_name, value)
        return found

    @staticmethod
    def call(impl: Any, hook: str, **kwargs: Any) -> Any:
        """Call one implementation with the arguments it asks for; errors name plugin and hook."""
        try:
            return impl.function(*(kwargs[a] for a in impl.argnames))
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {impl.plugin_name!r}: hook {hook} failed: {type(exc).__name__}: {exc}") from exc

    # -- what the plugins provide ---------------------------------------------------------------

    def registry(self, name: str) -> Mapping[str, Any]:
        """``{name: value}`` of one registry: ``actions``, ``channels``, ``field_types`` ..."""
        return {key: entry.value for key, entry in self._registries[REGISTRY_HOOK[name]].items()}

    def provider(self, registry: str, key: str) -> str | None:
        """The plugin that provides ``key`` in ``registry``, if a loaded one does."""
        entry = self._registries[REGISTRY_HOOK[registry]].get(key)
        return entry.plugin if entry else None

    @cached_property
    def field_types(self) -> Mapping[str, FieldType]:
        return self.registry("field_types")

    @cached_property
    def validators(self) -> Mapping[str, Callable[[Any], str | None]]:
        return self.registry("validators")

    @cached_property
    def guard_functions(self) -> Mapping[str, Callable[..., Any]]:
        return self.registry("guard_functions")

    @cached_property
    def actions(self) -> Mapping[str, ActionSpec]:
        return self.registry("actions")

    @cached_property
    def channels(self) -> Mapping[str, Channel]:
        return self.registry("channels")

    @cached_property
    def template_filters(self) -> Mapping[str, Callable[..., Any]]:
        return self.registry("template_filters")

    @cached_property
    def exporters(self) -> Mapping[str, Exporter]:
        return self.registry("exporters")

    @cached_property
    def auth_backends(self) -> Mapping[str, AuthBackend]:
        return self.registry("auth_backends")

    @cached_property
    def pack_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        return self.registry("pack_schemas")

    def event_listeners(self) -> list[tuple[str, Callable[[Event], Any]]]:
        """``(plugin, listener)`` for each ``on_event`` implementation, in registration order; the
        outbox calls them one by one, so a failing listener is retried alone."""
        def bind(impl: Any) -> Callable[[Event], Any]:
            return lambda event: self.call(impl, "on_event", event=event, config=self.config)
        return [(impl.plugin_name, bind(impl)) for impl in self.manager.hook.on_event.get_hookimpls()]

    # -- describing -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        return [n for n in self.origins if self.manager.has_plugin(n)]

    def describe(self) -> list[dict[str, Any]]:
        """Each loaded plugin: name, where it came from, version, hooks, and what it provides."""
        out = []
        for name in self.names():
            plugin = self.manager.get_plugin(name)
            provides = {plural: sorted(k for k, e in self._registries[hook].items() if e.plugin == name)
                        for hook, (_, plural, _) in REGISTRIES.items()}
            out.append({
                "name": name, "origin": self.origins[name], "version": self.versions.get(name, ""),
                "hooks": sorted(c.name for c in self.manager.get_hookcallers(plugin) or ()),
                "provides": {k: v for k, v in provides.items() if v},
            })
        return out

    def available(self) -> list[str]:
        """Plugins in the plugin folders that are not loaded (not enabled)."""
        return [n for n in _local_plugins(self.config.dirs) if not self.manager.has_plugin(n)]

    def not_enabled_provider(self, registry: str, key: str) -> str | None:
        """A plugin in the plugin folders, not enabled, that would provide ``key`` in ``registry``:
        one whose hooks say so, else one named ``key`` (its hooks may need settings to answer)."""
        if self._catalogue is None:
            self._catalogue = {}
            for name in self.available():
                try:
                    scratch = load(replace(self.config, enabled=(name,), entry_points=False), strict=False)
                except Exception:  # noqa: BLE001 - a hint only: a plugin that cannot load gives none
                    continue
                self._catalogue[name] = {plural: {k for k, e in scratch._registries[hook].items() if e.plugin == name}
                                         for hook, (_, plural, _) in REGISTRIES.items()}
        found = next((n for n, provides in self._catalogue.items() if key in provides[registry]), None)
        return found or (key if key in self.available() else None)

    def install(self) -> None:
        """Expose these plugins to the engine: guard functions and filters in the one sandbox
        (``bianmin.sandbox``: guards, form conditions, documents), actions in the workflow
        interpreter's registry. :func:`get_plugins` does it when it loads."""
        from .sandbox import environment

        env = environment()
        env.globals.update(self.guard_functions)
        env.filters.update(self.template_filters)
        added = {k: spec for k, spec in self.actions.items() if self.provider("actions", k) != "builtins"}
        if added:  # only then import the interpreter (it is not needed to check packs)
            from .workflow import actions as interpreter

            for name, spec in added.items():
                interpreter.register(name, spec.function or _pass_through(name), next(iter(spec.refers.items()), None))

    def how_to_enable(self, name: str) -> str:
        return (f"enable plugin {name!r} with BIANMIN_PLUGINS={name} or `plugins: [{name}]` in the server "
                f"config ({self.config.file or CONFIG_FILE})")


def _pass_through(name: str) -> Callable[..., Any]:
    def run(instance: Any, args: Mapping[str, Any], event: Any) -> list[Any]:
        from .workflow import Effect, thaw

        return [Effect(name, thaw(args))]
    return run


# --- discovery ---------------------------------------------------------------------------------

def load(config: Config | None = None, strict: bool = True) -> Plugins:
    """Load the built-in plugins, installed entry points and the enabled local plugins."""
    config = config or load_config()
    plugins = Plugins(config)
    for module_name in DEFAULT_PLUGINS:
        plugins.register(importlib.import_module(module_name), module_name.rpartition(".")[2], "built in")
    if config.entry_points:
        _load_entry_points(plugins)
    for name in config.enabled:
        if plugins.manager.has_plugin(name):
            continue  # an installed package already provides it
        plugins.register(import_local(name, config), name, _local_origin(name, config))
    return plugins.finish(strict)


def _load_entry_points(plugins: Plugins) -> None:
    import importlib.metadata  # slow to import (~0.1 s): only when plugins load

    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if plugins.manager.has_plugin(ep.name):
            continue
        dist = ep.dist
        origin = f"{dist.name} (entry point)" if dist else "entry point"
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import error, reported with its plugin
            raise PluginError(f"plugin {ep.name!r} ({origin}): cannot import {ep.value}: "
                              f"{type(exc).__name__}: {exc}") from exc
        plugins.register(plugin, ep.name, origin)
        if dist:
            plugins.versions[ep.name] = dist.version


def _local_plugins(dirs: Iterable[Path]) -> list[str]:
    names: list[str] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            stem = path.stem if path.suffix == ".py" else path.name
            is_plugin = path.suffix == ".py" or (path / "__init__.py").is_file()
            if is_plugin and NAME.match(stem) and stem not in names:
                names.append(stem)
    return names


def import_local(name: str, config: Config) -> types.ModuleType:
    """Import ``<name>.py`` or ``<name>/`` of the plugin folders as ``bianmin_local_plugins.<name>``
    (without registering it: tests of a plugin's own functions use this)."""
    if name not in _local_plugins(config.dirs):
        known = _local_plugins(config.dirs)
        hint = difflib.get_close_matches(name, known, n=1)
        tail = f"; did you mean {hint[0]!r}?" if hint else (f"; available: {', '.join(known)}" if known else "")
        raise PluginError(f"plugin {name!r} is enabled ({config.source}) but is not installed and not in "
                          f"{', '.join(str(d) for d in config.dirs) or 'any plugin folder'}{tail}")
    package = sys.modules.get(LOCAL_PACKAGE)
    if package is None:
        package = types.ModuleType(LOCAL_PACKAGE, "Plugins loaded from plugin folders (bianmin.plugins).")
        package.__path__ = []
        sys.modules[LOCAL_PACKAGE] = package
    for folder in config.dirs:
        if str(folder) not in package.__path__:
            package.__path__.append(str(folder))
    importlib.invalidate_caches()
    try:
        return importlib.import_module(f"{LOCAL_PACKAGE}.{name}")
    except Exception as exc:  # noqa: BLE001 - any import error, reported with its plugin
        raise PluginError(f"plugin {name!r} ({_local_origin(name, config)}): cannot import: "
                          f"{type(exc).__name__}: {exc}") from exc


def _local_origin(name: str, config: Config) -> str:
    for folder in config.dirs:
        for candidate in (folder / f"{name}.py", folder / name):
            if candidate.exists():
                return str(candidate)
    return "plugin folder"


# --- the process's plugins ---------------------------------------------------------------------

_current: Plugins | None = None


def get_plugins() -> Plugins:
    """The plugins of this process, loaded on first use from the server configuration."""
    global _current
    if _current is None:
        _current = load(load_config())
        _current.install()
    return _current


@contextlib.contextmanager
def use_plugins(plugins: Plugins | None) -> Iterator[Plugins | None]:
    """Make ``plugins`` the process's plugins for a block (tests); None loads afresh on next use.
    It does not :meth:`~Plugins.install` them: checking packs does not need that."""
    global _current
    previous, _current = _current, plugins
    try:
        yield plugins
    finally:
        _current = previous

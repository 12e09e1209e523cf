from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from bianmin import plugins
from bianmin.packs import Compiler

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
LOCAL = FIXTURES / "plugins"  # civic_seal, the test plugin
BROKEN = FIXTURES / "broken_plugins"
FIRST_PARTY = ROOT / "plugins"  # dev_outbox, webhook, sms, csv_export

Load = Callable[..., plugins.Plugins]


@pytest.fixture
def load_plugins() -> Load:
    """Plugins as the server would load them, from the fixture and first-party plugin folders
    only (no entry points of whatever is installed in the test environment)."""
    def load(*enabled: str, dirs: tuple[Path, ...] = (LOCAL, FIRST_PARTY), **settings: dict) -> plugins.Plugins:
        config = plugins.Config(enabled=enabled, dirs=dirs, plugin_settings=settings, entry_points=False,
                                home=FIXTURES)
        return plugins.load(config)
    return load


@pytest.fixture
def compiler() -> Compiler:
    """A compiler over the self-contained fixture tree: policies/_mini and policies/sealed
    (each with its own forms/ and templates/)."""
    return Compiler(FIXTURES / "policies", FIXTURES / "forms", FIXTURES / "templates")


@pytest.fixture
def installed() -> Iterator[Callable[[plugins.Plugins], plugins.Plugins]]:
    """Install plugins into the engine (sandbox, interpreter) for one test, then undo it."""
    from bianmin.sandbox import environment
    from bianmin.workflow import actions

    env = environment()
    globals_before, filters_before = dict(env.globals), dict(env.filters)
    registry_before = dict(actions._REGISTRY)

    def install(loaded: plugins.Plugins) -> plugins.Plugins:
        loaded.install()
        return loaded

    yield install
    for live, before in ((env.globals, globals_before), (env.filters, filters_before),
                         (actions._REGISTRY, registry_before)):
        live.clear()
        live.update(before)

"""The store's database fixtures (SQLite and PostgreSQL, ``tests/store/conftest.py``) reused,
and the helpers the scoring and report tests share (``scoring_helpers.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for `from scoring_helpers import ...`


def _store_conftest():
    # conftest modules are not importable under --import-mode=importlib: load it by path.
    name = "_bianmin_store_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE.parent / "store" / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_store = _store_conftest()
backend = _store.backend
postgres_databases = _store.postgres_databases
postgres_url = _store.postgres_url
registry = _store.registry
staff = _store.staff
checklist = _store.checklist

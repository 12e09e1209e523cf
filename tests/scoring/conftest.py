"""The store's database fixtures (SQLite and PostgreSQL, ``tests/store/conftest.py``) reused,
and the helpers the scoring and report tests share (``scoring_helpers.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for `from scoring_helpers import ...`

from scoring_helpers import store_fixtures  # noqa: E402

_store = store_fixtures()
backend = _store.backend
postgres_databases = _store.postgres_databases
postgres_url = _store.postgres_url
registry = _store.registry
staff = _store.staff
checklist = _store.checklist

"""The store's database fixtures (SQLite and PostgreSQL, ``tests/store/conftest.py``) and the
scoring tests' helpers (``tests/scoring/scoring_helpers.py``), reused."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "scoring"))  # for `from scoring_helpers import ...`
sys.path.insert(0, str(TESTS / "reports"))  # for `from report_helpers import ...`

from scoring_helpers import store_fixtures  # noqa: E402

_store = store_fixtures()
backend = _store.backend
postgres_databases = _store.postgres_databases
postgres_url = _store.postgres_url
registry = _store.registry
staff = _store.staff
checklist = _store.checklist

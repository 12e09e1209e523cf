"""Persistence: the Tortoise models, numbering, the transaction boundary and the sweeper.

Public surface::

    await init_db(url) / close_db()                 # db.py; tortoise_config(url) for RegisterTortoise
    await intake(jurisdiction, item_id, subject, actor, data, now, idempotency_key=None) -> Result
    await open_record(jurisdiction, workflow_id, subject, actor, data, now, parent=None) -> Result
    await transition(jurisdiction, number, transition_id, actor, data, now, expected_version=None)
    await load(jurisdiction, number) -> (Record, Instance)
    await document(jurisdiction, document_number) -> Document   # a reprint: the same row
    await sweep(now=None, batch=500) -> SweepReport ; run_periodic(interval)
    await upgrade()                                 # migrate.py: `bianmin db upgrade`

See docs/persistence.md.
"""

from __future__ import annotations

from .db import close_db, default_url, init_db, tortoise_config
from .migrate import upgrade
from .service import (ConflictError, RecordNotFound, Result, StoreError, document, intake, load, open_record,
                      transition)
from .sweeper import SweepReport, run_periodic, sweep

__all__ = [
    "ConflictError", "RecordNotFound", "Result", "StoreError", "SweepReport", "close_db", "default_url", "document",
    "init_db", "intake", "load", "open_record", "run_periodic", "sweep", "tortoise_config", "transition",
    "upgrade",
]

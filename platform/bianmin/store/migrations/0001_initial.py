"""The first schema: every table of store/models.py, the sweeper's index, append-only events."""

from __future__ import annotations

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "bigpk": "INTEGER PRIMARY KEY AUTOINCREMENT",
               "json": "TEXT", "bool": "INTEGER", "true": "1", "ts": "TIMESTAMP", "bigint": "INTEGER"},
    "postgres": {"pk": "SERIAL PRIMARY KEY", "bigpk": "BIGSERIAL PRIMARY KEY", "json": "JSONB",
                 "bool": "BOOLEAN", "true": "TRUE", "ts": "TIMESTAMP", "bigint": "BIGINT"},
}

_TABLES = """
CREATE TABLE jurisdictions (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(200) NOT NULL DEFAULT '',
    number_prefix VARCHAR(16) NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE pack_versions (
    id {pk},
    jurisdiction_id VARCHAR(64) NOT NULL REFERENCES jurisdictions (id),
    content_hash VARCHAR(64) NOT NULL,
    version VARCHAR(64) NOT NULL,
    effective_from DATE NOT NULL,
    activated_at {ts} NOT NULL,
    UNIQUE (jurisdiction_id, content_hash)
);
CREATE TABLE staff (
    id {pk},
    username VARCHAR(64) NOT NULL UNIQUE,
    display_name VARCHAR(100) NOT NULL,
    phone VARCHAR(32) NOT NULL DEFAULT '',
    password_hash VARCHAR(255) NOT NULL DEFAULT '',
    active {bool} NOT NULL DEFAULT {true},
    created_at {ts} NOT NULL
);
CREATE TABLE role_assignments (
    id {pk},
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    jurisdiction_id VARCHAR(64) NOT NULL REFERENCES jurisdictions (id),
    role VARCHAR(64) NOT NULL,
    "window" VARCHAR(64) NOT NULL DEFAULT '',
    post VARCHAR(64) NOT NULL DEFAULT '',
    UNIQUE (staff_id, jurisdiction_id, role, "window", post)
);
CREATE TABLE records (
    id {bigpk},
    jurisdiction_id VARCHAR(64) NOT NULL REFERENCES jurisdictions (id),
    kind VARCHAR(32) NOT NULL,
    workflow_id VARCHAR(64) NOT NULL,
    number VARCHAR(48) NOT NULL,
    year INTEGER NOT NULL,
    item_id VARCHAR(64),
    pack_hash VARCHAR(64) NOT NULL,
    state VARCHAR(64) NOT NULL,
    is_open {bool} NOT NULL DEFAULT {true},
    subject {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    parent_id {bigint} REFERENCES records (id),
    idempotency_key VARCHAR(128),
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    swept_at {ts} NOT NULL,
    UNIQUE (jurisdiction_id, number),
    UNIQUE (jurisdiction_id, idempotency_key)
);
CREATE INDEX records_sweep ON records (swept_at) WHERE is_open;
CREATE INDEX records_parent ON records (parent_id);
CREATE INDEX records_list ON records (jurisdiction_id, kind, state);
CREATE TABLE backup_assignments (
    id {pk},
    jurisdiction_id VARCHAR(64) NOT NULL REFERENCES jurisdictions (id),
    post VARCHAR(64) NOT NULL DEFAULT '',
    absent_id INTEGER NOT NULL REFERENCES staff (id),
    backup_id INTEGER NOT NULL REFERENCES staff (id),
    starts_at {ts} NOT NULL,
    ends_at {ts},
    handover_id {bigint} REFERENCES records (id)
);
CREATE TABLE events (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    seq INTEGER NOT NULL,
    at {ts} NOT NULL,
    actor VARCHAR(64) NOT NULL,
    actor_name VARCHAR(100) NOT NULL DEFAULT '',
    acting_for VARCHAR(64),
    role VARCHAR(64) NOT NULL DEFAULT '',
    transition VARCHAR(64) NOT NULL,
    from_state VARCHAR(64) NOT NULL DEFAULT '',
    to_state VARCHAR(64) NOT NULL,
    data {json} NOT NULL,
    pack_hash VARCHAR(64) NOT NULL,
    recorded_at {ts} NOT NULL,
    UNIQUE (record_id, seq)
);
CREATE TABLE documents (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    jurisdiction VARCHAR(64) NOT NULL,
    document_id VARCHAR(64) NOT NULL,
    number VARCHAR(48) NOT NULL,
    year INTEGER NOT NULL,
    event_seq INTEGER NOT NULL,
    data {json} NOT NULL,
    content_hash VARCHAR(64) NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    issued_at {ts} NOT NULL,
    issued_by VARCHAR(64) NOT NULL DEFAULT '',
    UNIQUE (jurisdiction, year, number),
    UNIQUE (record_id, event_seq, document_id)
);
CREATE TABLE violations (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    jurisdiction VARCHAR(64) NOT NULL,
    violation_id VARCHAR(64) NOT NULL,
    charged VARCHAR(64) NOT NULL DEFAULT '',
    state VARCHAR(32) NOT NULL DEFAULT 'detected',
    evidence {json} NOT NULL,
    detected_at {ts} NOT NULL,
    detected_by VARCHAR(64) NOT NULL DEFAULT '',
    UNIQUE (record_id, violation_id)
);
CREATE INDEX violations_by_time ON violations (jurisdiction, detected_at);
CREATE TABLE ratings (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    level VARCHAR(32) NOT NULL,
    score INTEGER NOT NULL,
    bad {bool} NOT NULL DEFAULT FALSE,
    channel VARCHAR(32) NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    rated_at {ts} NOT NULL,
    rectification_id {bigint} REFERENCES records (id)
);
CREATE TABLE outbox (
    id {bigpk},
    jurisdiction VARCHAR(64) NOT NULL,
    record_id {bigint} REFERENCES records (id),
    kind VARCHAR(32) NOT NULL,
    payload {json} NOT NULL,
    created_at {ts} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {ts},
    last_error TEXT NOT NULL DEFAULT '',
    done_at {ts}
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE done_at IS NULL;
CREATE TABLE clock_marks (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    clock VARCHAR(64) NOT NULL,
    status VARCHAR(32) NOT NULL,
    level VARCHAR(16) NOT NULL,
    deadline DATE,
    fingerprint VARCHAR(64) NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (record_id, clock)
);
CREATE TABLE timer_marks (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    timer VARCHAR(128) NOT NULL,
    fired_at {ts} NOT NULL,
    UNIQUE (record_id, timer)
);
CREATE TABLE deadline_changes (
    id {bigpk},
    record_id {bigint} NOT NULL REFERENCES records (id),
    clock VARCHAR(64) NOT NULL,
    old_deadline DATE,
    new_deadline DATE,
    old_fingerprint VARCHAR(64) NOT NULL,
    new_fingerprint VARCHAR(64) NOT NULL,
    detected_at {ts} NOT NULL
);
CREATE INDEX deadline_changes_record ON deadline_changes (record_id);
CREATE TABLE counters (
    id {pk},
    jurisdiction VARCHAR(64) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    year INTEGER NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,
    UNIQUE (jurisdiction, kind, year)
)
"""

# Append-only events (ARCHITECTURE invariant 4): the database itself refuses to change the log.
_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END",
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END",
    ],
    "postgres": [
        "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation'; "
        "END $$",
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    ],
}


def statements(dialect: str) -> list[str]:
    tables = [s.strip().format(**_TYPES[dialect]) for s in _TABLES.split(";") if s.strip()]
    return tables + _APPEND_ONLY[dialect]

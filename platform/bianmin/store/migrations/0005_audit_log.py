"""``audit_log``: the audit trail of sign-ins and actions (web/trail.py), append-only.

Like ``events`` (0001), the database itself refuses UPDATE and DELETE of its rows, so a trail
cannot be edited afterwards by the application or by anyone holding its credentials short of
dropping the trigger. Listed per jurisdiction, newest first (the index).
"""

from __future__ import annotations

_TYPES = {
    "sqlite": {"bigpk": "INTEGER PRIMARY KEY AUTOINCREMENT", "json": "TEXT"},
    "postgres": {"bigpk": "BIGSERIAL PRIMARY KEY", "json": "JSONB"},
}

_TABLE = """
CREATE TABLE audit_log (
    id {bigpk},
    at TIMESTAMP NOT NULL,
    jurisdiction VARCHAR(64) NOT NULL DEFAULT '',
    event VARCHAR(32) NOT NULL,
    staff_id INTEGER,
    username VARCHAR(64) NOT NULL DEFAULT '',
    acting_for VARCHAR(64),
    ip VARCHAR(64) NOT NULL DEFAULT '',
    path VARCHAR(200) NOT NULL DEFAULT '',
    number VARCHAR(48) NOT NULL DEFAULT '',
    details {json} NOT NULL
)
"""

_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
    ],
    "postgres": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation'; "
        "END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        # TRUNCATE skips row triggers: refuse it with a statement trigger.
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def statements(dialect: str) -> list[str]:
    return [_TABLE.strip().format(**_TYPES[dialect]),
            "CREATE INDEX audit_log_listing ON audit_log (jurisdiction, at)",
            *_APPEND_ONLY[dialect]]

"""The tables, as Tortoise models. The schema itself is made by the numbered migrations
(``store/migrations``); ``tests/store/test_migrations.py`` checks that both agree.

Times are naive local times of the service centre (``Asia/Shanghai``), the same values the
workflow and the clocks compute with (Tortoise runs with ``use_tz=False``).

Every state change is an :class:`Event` in an append-only log (ARCHITECTURE invariant 4); a
:class:`Record` row is the summary of its events, kept in step in the same transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model


def dumps(value: Any) -> str:
    # Chinese text stays readable and half the size (PITFALLS.md: JSONField and ensure_ascii).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def JSON(**kwargs: Any) -> Any:  # noqa: N802 - reads like a field type
    return fields.JSONField(encoder=dumps, decoder=json.loads, **kwargs)


class Jurisdiction(Model):
    id = fields.CharField(max_length=64, primary_key=True)  # the pack id
    name = fields.CharField(max_length=200, default="")
    number_prefix = fields.CharField(max_length=16)  # JY in JY-2026-000123 (docs/persistence.md)
    created_at = fields.DatetimeField()

    class Meta:
        table = "jurisdictions"


class PackVersion(Model):
    """A pack version that records were started under (the pins of ``Record.pack_hash``)."""

    id = fields.IntField(primary_key=True)
    jurisdiction = fields.ForeignKeyField("models.Jurisdiction", related_name="pack_versions")
    content_hash = fields.CharField(max_length=64)
    version = fields.CharField(max_length=64)
    effective_from = fields.DateField()
    activated_at = fields.DatetimeField()  # first used by a record
    # JSON {relative path: text} of the files the version compiles from (store/archive.py)
    archive = fields.TextField(null=True)

    class Meta:
        table = "pack_versions"
        unique_together = (("jurisdiction", "content_hash"),)


class Staff(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=32, default="")
    password_hash = fields.CharField(max_length=255, default="")  # set by the web layer
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    session_epoch = fields.IntField(default=0)  # bumped at sign-out: older session cookies are dead

    class Meta:
        table = "staff"


class RoleAssignment(Model):
    """A staff member holds a role of a jurisdiction's pack, at a window and post ('' = none)."""

    id = fields.IntField(primary_key=True)
    staff = fields.ForeignKeyField("models.Staff", related_name="roles")
    jurisdiction = fields.ForeignKeyField("models.Jurisdiction", related_name="role_assignments")
    role = fields.CharField(max_length=64)
    window = fields.CharField(max_length=64, default="")
    post = fields.CharField(max_length=64, default="")

    class Meta:
        table = "role_assignments"
        unique_together = (("staff", "jurisdiction", "role", "window", "post"),)


class BackupAssignment(Model):
    """Backup post (同岗替代, AB岗): ``backup`` acts with ``absent``'s rights over a period."""

    id = fields.IntField(primary_key=True)
    jurisdiction = fields.ForeignKeyField("models.Jurisdiction", related_name="backup_assignments")
    post = fields.CharField(max_length=64, default="")
    absent = fields.ForeignKeyField("models.Staff", related_name="covered_by")
    backup = fields.ForeignKeyField("models.Staff", related_name="covering")
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(null=True)
    handover = fields.ForeignKeyField("models.Record", related_name="backup_assignments", null=True)

    class Meta:
        table = "backup_assignments"


class Record(Model):
    """One workflow instance: a case (办件), complaint, inquiry, negative report, ..."""

    id = fields.BigIntField(primary_key=True)
    jurisdiction = fields.ForeignKeyField("models.Jurisdiction", related_name="records")
    kind = fields.CharField(max_length=32)  # the workflow's subject: case, complaint, ...
    workflow_id = fields.CharField(max_length=64)
    number = fields.CharField(max_length=48)
    year = fields.IntField()
    item_id = fields.CharField(max_length=64, null=True)
    pack_hash = fields.CharField(max_length=64)  # the pinned pack version
    state = fields.CharField(max_length=64)
    is_open = fields.BooleanField(default=True)  # false once in a terminal state
    subject = JSON()
    version = fields.IntField(default=1)  # optimistic lock: bumped by every transition
    parent = fields.ForeignKeyField("models.Record", related_name="children", null=True)
    idempotency_key = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    swept_at = fields.DatetimeField()  # when the sweeper last examined it (sweeper.py)
    # When the sweeper must examine it next (the epoch: at once); set by every transition and by
    # the sweeper from the clocks (workflow/nextcheck.py), read through records_next_check.
    next_check_at = fields.DatetimeField(default=datetime(1970, 1, 1))

    class Meta:
        table = "records"
        unique_together = (("jurisdiction", "number"), ("jurisdiction", "idempotency_key"))


class Event(Model):
    """Append-only: the code has no update or delete path, and a database trigger refuses both."""

    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="events")
    seq = fields.IntField()
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)  # the staff id (or "system" for the sweeper)
    actor_name = fields.CharField(max_length=100, default="")  # as it was when they acted
    acting_for = fields.CharField(max_length=64, null=True)  # backup post: whom they stand in for
    role = fields.CharField(max_length=64, default="")  # the role exercised
    transition = fields.CharField(max_length=64)
    from_state = fields.CharField(max_length=64, default="")
    to_state = fields.CharField(max_length=64)
    data = JSON()
    pack_hash = fields.CharField(max_length=64)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "events"
        unique_together = (("record", "seq"),)


class Document(Model):
    """An issued document. A reprint reads the same row: same number, same content hash."""

    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="documents")
    jurisdiction = fields.CharField(max_length=64)
    document_id = fields.CharField(max_length=64)
    number = fields.CharField(max_length=48)
    year = fields.IntField()
    event_seq = fields.IntField()
    data = JSON()  # the snapshot the document was made from
    content_hash = fields.CharField(max_length=64)
    content = fields.TextField(default="")
    issued_at = fields.DatetimeField()
    issued_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "documents"
        unique_together = (("jurisdiction", "year", "number"), ("record", "event_seq", "document_id"))


class Violation(Model):
    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="violations")
    jurisdiction = fields.CharField(max_length=64)
    violation_id = fields.CharField(max_length=64)
    charged = fields.CharField(max_length=64, default="")  # who answers for it: window, post, ...
    state = fields.CharField(max_length=32, default="detected")
    evidence = JSON()  # {"events": [seq, ...], "clock": ..., "deadline": ...}
    detected_at = fields.DatetimeField()
    detected_by = fields.CharField(max_length=64, default="")  # sweeper | transition | staff id

    class Meta:
        table = "violations"
        unique_together = (("record", "violation_id"),)


class Rating(Model):
    """A satisfaction rating (好差评) of a case; a bad one opens a rectification record."""

    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="ratings")
    level = fields.CharField(max_length=32)
    score = fields.IntField()
    bad = fields.BooleanField(default=False)
    channel = fields.CharField(max_length=32, default="")
    comment = fields.TextField(default="")
    rated_at = fields.DatetimeField()
    rectification = fields.ForeignKeyField("models.Record", related_name="rectified_ratings", null=True)

    class Meta:
        table = "ratings"


class Outbox(Model):
    """Effects delivered after commit (notify, assign): written in the transaction that caused them."""

    id = fields.BigIntField(primary_key=True)
    jurisdiction = fields.CharField(max_length=64)
    record = fields.ForeignKeyField("models.Record", related_name="outbox", null=True)
    kind = fields.CharField(max_length=32)
    payload = JSON()
    created_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"


class ClockMark(Model):
    """The last computed state of a record's clock: warning level reached, deadline, calendar."""

    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="clock_marks")
    clock = fields.CharField(max_length=64)
    status = fields.CharField(max_length=32)
    level = fields.CharField(max_length=16)
    deadline = fields.DateField(null=True)
    fingerprint = fields.CharField(max_length=64)  # of the calendar the deadline was computed on
    updated_at = fields.DatetimeField()

    class Meta:
        table = "clock_marks"
        unique_together = (("record", "clock"),)


class TimerMark(Model):
    """A workflow timer that fired: the unique row is what makes it fire exactly once."""

    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="timer_marks")
    timer = fields.CharField(max_length=128)  # the due timer's key: <timer id>@<deadline>
    fired_at = fields.DatetimeField()

    class Meta:
        table = "timer_marks"
        unique_together = (("record", "timer"),)


class DeadlineChange(Model):
    """A deadline moved by a new calendar (not by the case's own events): shown to the staff."""

    id = fields.BigIntField(primary_key=True)
    record = fields.ForeignKeyField("models.Record", related_name="deadline_changes")
    clock = fields.CharField(max_length=64)
    old_deadline = fields.DateField(null=True)
    new_deadline = fields.DateField(null=True)
    old_fingerprint = fields.CharField(max_length=64)
    new_fingerprint = fields.CharField(max_length=64)
    detected_at = fields.DatetimeField()

    class Meta:
        table = "deadline_changes"


class Counter(Model):
    """The last number given per jurisdiction, kind and year (numbering.py)."""

    id = fields.IntField(primary_key=True)
    jurisdiction = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=32)
    year = fields.IntField()
    value = fields.IntField(default=0)  # the last number given

    class Meta:
        table = "counters"
        unique_together = (("jurisdiction", "kind", "year"),)


class AuditEntry(Model):
    """One line of the audit trail: a sign-in, a refusal, or an action of staff or public.

    Append-only like the events: the code only inserts, and a database trigger refuses UPDATE and
    DELETE (migration 0005). Personal data in ``details`` is masked before it is written
    (``bianmin.privacy.mask_details``)."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    jurisdiction = fields.CharField(max_length=64, default="")  # '' when none (an unknown user name)
    event = fields.CharField(max_length=32)  # sign_in, sign_in_failed, transition, pack_activate ...
    staff_id = fields.IntField(null=True)  # who acted; None for the public and unknown user names
    username = fields.CharField(max_length=64, default="")  # as typed at sign-in, or the account's
    acting_for = fields.CharField(max_length=64, null=True)  # backup post: whom they stood in for
    ip = fields.CharField(max_length=64, default="")
    path = fields.CharField(max_length=200, default="")
    number = fields.CharField(max_length=48, default="")  # the record concerned, if any
    details = JSON()

    class Meta:
        table = "audit_log"


class AppraisalMark(Model):
    """A mark an appraiser gives a staff member on one dimension of the pack's appraisal, for one
    period (xupu 九(二)2② 德、能、勤、绩、廉): ``mark`` on the base score's scale. Marks count only in
    the appraisal of the period they were given for (scoring/appraisal.py); a second mark for the
    same person, period and dimension replaces the first (the audit trail keeps both)."""

    id = fields.IntField(primary_key=True)
    jurisdiction = fields.ForeignKeyField("models.Jurisdiction", related_name="appraisal_marks")
    staff = fields.ForeignKeyField("models.Staff", related_name="appraisal_marks")
    period_kind = fields.CharField(max_length=16)  # month | quarter | year
    year = fields.IntField()
    n = fields.IntField()  # the month or quarter; 1 for a year
    dimension = fields.CharField(max_length=64)
    mark = fields.FloatField()
    marked_by = fields.CharField(max_length=64)  # the appraiser's staff id
    marked_at = fields.DatetimeField()

    class Meta:
        table = "appraisal_marks"
        unique_together = (("jurisdiction", "staff", "period_kind", "year", "n", "dimension"),)


__models__ = [Jurisdiction, PackVersion, Staff, RoleAssignment, BackupAssignment, Record, Event,
              Document, Violation, Rating, Outbox, ClockMark, TimerMark, DeadlineChange, Counter,
              AuditEntry, AppraisalMark]

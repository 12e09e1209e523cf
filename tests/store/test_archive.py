"""Archived pack versions (store/archive.py): a case keeps its rules after its pack's files change
and the process restarts; a bad archive is reported and never stops a start-up."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest

from bianmin import paths
from bianmin.packs import Registry
from bianmin.store import archive, db, service, sweeper
from bianmin.store.models import PackVersion, Record
from bianmin.web import bootstrap
from bianmin.web.context import Web
from bianmin.workflow import clock_states

MONDAY = dt.datetime(2026, 10, 12, 9, 0)
ITEM = "food_business_licence"  # jiangyin: promised 5 working days
FIVE = "promised: {value: 5, unit: working_day}"
EIGHT = "promised: {value: 8, unit: working_day}"


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """A copy of the project's policies: the tests edit it, never the real one."""
    copy = tmp_path / "policies"
    shutil.copytree(paths.policies_dir(), copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def start(policies: Path, tmp_path: Path) -> Web:
    """What a (re)start does: compile the files, then the web bootstrap (archive and restore)."""
    registry, problems = Registry.load(policies)
    assert not problems, problems
    return Web(registry, [], policies, tmp_path / "var" / "packs", "secret", "")


async def case(registry: Registry, staff, checklist, at: dt.datetime = MONDAY) -> str:
    pack = registry.active("jiangyin", at.date())
    started = await service.intake("jiangyin", ITEM, {"materials": checklist(pack, ITEM)}, staff, {}, at,
                                   registry=registry)
    await service.transition("jiangyin", started.record.number, "accept", staff, {}, at + dt.timedelta(hours=1),
                             registry=registry)
    return started.record.number


async def deadline(registry: Registry, number: str) -> tuple[str, str]:
    record, instance = await service.load("jiangyin", number, registry=registry)
    return record.pack_hash, clock_states(instance, MONDAY + dt.timedelta(days=2))["promised"].deadline.isoformat()


def test_a_case_keeps_its_version_after_the_files_change(backend, staff, checklist, policies, tmp_path):
    before = start(policies, tmp_path)
    old_hash = before.registry.active("jiangyin").content_hash

    async def first_run():
        await bootstrap.register_packs(before)
        number = await case(before.registry, staff, checklist)
        rows = {v.jurisdiction_id: v for v in await PackVersion.all()}
        return number, rows

    number, rows = backend.run(first_run)
    assert set(rows) == set(before.registry.jurisdictions())
    files = json.loads(rows["jiangyin"].archive)
    assert {"policies/jiangyin/items.yaml", "policies/_base/workflows.yaml", "forms/intake.yaml",
            "templates/acceptance_notice.html.j2"} <= set(files)
    assert not any("/tests/" in name for name in files)
    assert archive.compile_files("jiangyin", files).content_hash == old_hash == rows["jiangyin"].content_hash

    # Someone edits the promised limit in place (same version and date: the files win the tie).
    edit(policies / "jiangyin" / "items.yaml", FIVE, EIGHT)
    after = start(policies, tmp_path)
    new_hash = after.registry.active("jiangyin").content_hash
    assert new_hash != old_hash
    with pytest.raises(LookupError):
        after.registry.pinned("jiangyin", old_hash)  # what the files alone know

    async def restart():
        await bootstrap.register_packs(after)
        assert after.registry.active("jiangyin", MONDAY.date()).content_hash == new_hash
        old = await deadline(after.registry, number)
        moved = await service.transition("jiangyin", number, "complete", staff, {"outcome": "approved"},
                                         MONDAY + dt.timedelta(hours=3), registry=after.registry)
        new_number = await case(after.registry, staff, checklist)
        new = await deadline(after.registry, new_number)
        report = await sweeper.sweep(MONDAY + dt.timedelta(days=20), registry=after.registry)
        return old, moved.record.state, moved.instance.events[-1].pack_hash, new, report

    old, state, event_hash, new, report = backend.run(restart)
    assert old == (old_hash, "2026-10-19")  # 5 working days after 10-12, as when it started
    assert state != "accepted" and event_hash == old_hash
    assert new == (new_hash, "2026-10-22")  # 8 working days: the edited limit
    assert report.errors == 0 and report.processed == 2


def test_a_plain_registry_restores_a_pinned_version_on_demand(backend, staff, checklist, policies, tmp_path):
    before = start(policies, tmp_path)

    async def first_run():
        await bootstrap.register_packs(before)
        return await case(before.registry, staff, checklist)

    number = backend.run(first_run)
    edit(policies / "jiangyin" / "items.yaml", FIVE, EIGHT)
    files_only, _ = Registry.load(policies)  # no start-up hook: service.load and the sweeper restore

    async def later():
        report = await sweeper.sweep(MONDAY + dt.timedelta(days=1), registry=files_only)
        return report, await deadline(files_only, number)

    report, (pinned, due) = backend.run(later)
    assert report.errors == 0 and pinned == before.registry.active("jiangyin").content_hash and due == "2026-10-19"


def test_an_archive_that_no_longer_compiles_to_its_hash_is_reported(backend, staff, checklist, policies,
                                                                   tmp_path, caplog):
    before = start(policies, tmp_path)
    old_hash = before.registry.active("jiangyin").content_hash
    taihe_hash = before.registry.active("taihe").content_hash

    async def first_run():
        await bootstrap.register_packs(before)
        number = await case(before.registry, staff, checklist)
        # An engine change would alter hashing; here a changed byte does the same to the archive.
        changed = json.loads((await PackVersion.get(jurisdiction_id="jiangyin")).archive)
        changed["policies/jiangyin/items.yaml"] += "\n# 注释\n"
        broken = json.loads((await PackVersion.get(jurisdiction_id="taihe")).archive)
        broken["policies/taihe/pack.yaml"] = "id: [unclosed\n"
        for pack_id, files in (("jiangyin", changed), ("taihe", broken)):
            await db.execute(db.connection(), "UPDATE pack_versions SET archive = ? WHERE jurisdiction_id = ?",
                             [json.dumps(files, ensure_ascii=False), pack_id])
        return number

    number = backend.run(first_run)
    edit(policies / "jiangyin" / "items.yaml", FIVE, EIGHT)
    edit(policies / "taihe" / "pack.yaml", "name:", "# edited\nname:")
    after = start(policies, tmp_path)

    async def restart():
        with caplog.at_level(logging.WARNING, logger="bianmin.store.archive"):
            warnings = await archive.startup(after.registry, policies, uploads=after.uploads)
        return warnings, await deadline(after.registry, number)

    warnings, (pinned, due) = backend.run(restart)
    # Kept under the hash its records pin, with a warning naming pack and both hashes.
    drifted = [w for w in warnings if w.startswith(f"pack jiangyin version {old_hash}")]
    assert len(drifted) == 1 and "compiles to hash" in drifted[0] and f"archived hash {old_hash}" in drifted[0]
    assert pinned == old_hash and due == "2026-10-19"
    # A broken archive is reported and skipped; the other versions load.
    failed = [w for w in warnings if w.startswith(f"pack taihe version {taihe_hash}")]
    assert len(failed) == 1 and "does not compile" in failed[0]
    with pytest.raises(LookupError):
        after.registry.pinned("taihe", taihe_hash)
    assert after.registry.active("taihe") is not None and len(warnings) == 2
    assert {r.getMessage() for r in caplog.records if r.name == "bianmin.store.archive"} == set(warnings)


def test_versions_without_an_archive_are_archived_at_start_up_once(backend, policies, tmp_path):
    web = start(policies, tmp_path)
    jiangyin = web.registry.active("jiangyin")

    async def body():
        async with db.transaction() as tx:  # a row made before migration 0002 (or by an intake)
            await archive.records.ensure_jurisdiction(tx, jiangyin, MONDAY)
        empty = (await PackVersion.get(jurisdiction_id="jiangyin")).archive
        first = await archive.startup(web.registry, policies)
        stored = (await PackVersion.get(jurisdiction_id="jiangyin")).archive
        again = await archive.startup(web.registry, policies)
        return empty, first, stored, again, (await PackVersion.get(jurisdiction_id="jiangyin")).archive, \
            await Record.all().count()

    empty, first, stored, again, kept, records = backend.run(body)
    assert empty is None and stored and kept == stored and first == again == [] and records == 0


def test_files_changed_since_compiling_are_not_archived(backend, policies, tmp_path):
    web = start(policies, tmp_path)
    edit(policies / "jiangyin" / "items.yaml", FIVE, EIGHT)  # after the registry compiled them

    async def body():
        warnings = await archive.startup(web.registry, policies)
        return warnings, (await PackVersion.get(jurisdiction_id="jiangyin")).archive

    warnings, stored = backend.run(body)
    assert stored is None and len(warnings) == 1 and warnings[0].startswith("pack jiangyin version ")
    assert "not archived" in warnings[0]

"""Pack versions kept in the store, so a case keeps its rules after the pack's files change.

A case pins the content hash of the pack version it started under (``records.pack_hash``), but a
registry compiled at start-up only knows the versions the files *now* produce. So each version
registered in ``pack_versions`` also keeps its source in ``pack_versions.archive``: a JSON mapping
of relative path to text, laid out as the project is::

    policies/<pack>/...     every file of the pack folder and of each folder it extends
                            (its lineage; ``tests/`` left out: scenarios are not rules)
    forms/...               the shared forms
    templates/...           the shared templates

At start-up (web bootstrap, ``bianmin sweep``, a pinned version missing in
``service.load``/``sweeper.sweep``) every archived version the registry does not hold is written
to a temporary folder tree and compiled with ``Compiler(policies, forms, templates)``.

Which hash a restored version answers to: records keep the archived hash, always (it is part of
the legal record and is never rewritten). When the archive no longer compiles to it (an engine
change altered hashing, say) the version is still registered under the archived hash and a
warning names the pack and both hashes; an archive that does not compile at all is reported and
skipped (its cases then fail with ``UnknownPack`` as before), never stopping the start-up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tempfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from tortoise.backends.base.client import BaseDBAsyncClient

from .. import paths
from ..packs import Compiler, Registry
from ..packs.model import Pack
from ..packs.problems import PackError
from . import db, records

log = logging.getLogger("bianmin.store.archive")
SKIP = frozenset({"tests", "__pycache__"})


def collect(pack: Pack, policies: Path | None = None, forms: Path | None = None,
            templates: Path | None = None, own: Path | None = None) -> dict[str, str]:
    """The files ``pack`` compiles from, by relative path. ``own`` is the pack's own folder when
    it is not ``policies/<id>`` (an activated upload under ``var/packs``)."""
    policies = policies or paths.policies_dir()
    files: dict[str, str] = {}
    for i, pack_id in enumerate(pack.lineage):
        folder = own if (i == 0 and own is not None) else policies / pack_id
        files.update(_read(folder, f"policies/{pack_id}"))
    files.update(_read(forms or paths.forms_dir(), "forms"))
    files.update(_read(templates or paths.templates_dir(), "templates"))
    return files


def _read(folder: Path, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or SKIP.intersection(rel.parts):
            continue
        try:
            found[f"{prefix}/{rel.as_posix()}"] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text: no pack, form or template is binary
    return found


def compile_files(pack_id: str, files: Mapping[str, str]) -> Pack:
    """Compile pack ``pack_id`` from archived files (in a temporary folder tree); PackError.

    The same files compile to the same (immutable) pack: kept per process, so a start-up on a
    fresh database, or a second one, does not compile unchanged versions again."""
    key = hashlib.sha256(json.dumps([pack_id, files], ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    if key not in _compiled:
        while len(_compiled) >= _KEEP:
            _compiled.pop(next(iter(_compiled)))
        _compiled[key] = _compile(pack_id, files)
    return _compiled[key]


_compiled: dict[str, Pack] = {}
_KEEP = 64


def _compile(pack_id: str, files: Mapping[str, str]) -> Pack:
    with tempfile.TemporaryDirectory(prefix="bianmin-archive-") as tmp:
        root = Path(tmp).resolve()
        for name, text in files.items():
            rel = PurePosixPath(name)
            if rel.is_absolute() or ".." in rel.parts or rel.parts[0] not in ("policies", "forms", "templates"):
                raise ValueError(f"archived path not allowed: {name!r}")
            target = root.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for sub in ("policies", "forms", "templates"):
            (root / sub).mkdir(exist_ok=True)
        compiler = Compiler(root / "policies", root / "forms", root / "templates")
        return compiler.compile(root / "policies" / pack_id)


async def store(tx: BaseDBAsyncClient, pack: Pack, files: Mapping[str, str], now: datetime) -> bool:
    """Register ``pack``'s version with its archive (kept when one is there already); whether
    this call wrote the archive."""
    await records.ensure_jurisdiction(tx, pack, now)
    return await db.execute(tx, "UPDATE pack_versions SET archive = ? WHERE jurisdiction_id = ? AND "
                            "content_hash = ? AND archive IS NULL",
                            [json.dumps(dict(files), ensure_ascii=False, sort_keys=True), pack.id,
                             pack.content_hash]) == 1


async def archive_versions(packs: Iterable[Pack], policies: Path | None = None, forms: Path | None = None,
                           templates: Path | None = None, uploads: Path | None = None,
                           now: datetime | None = None) -> list[str]:
    """Register and archive every version of ``packs`` whose row has no archive yet, from the
    files now on disk, checked first: they must compile again to the version's hash. Warnings."""
    now = now or datetime.now().replace(microsecond=0)
    archived = {(r["jurisdiction_id"], r["content_hash"]) for r in await db.fetch(
        db.connection(), "SELECT jurisdiction_id, content_hash FROM pack_versions WHERE archive IS NOT NULL")}
    warnings = []
    for pack in packs:
        if (pack.id, pack.content_hash) in archived:
            continue
        own = uploads / pack.id / pack.content_hash / "pack" if uploads is not None else None
        files = collect(pack, policies, forms, templates, own if own is not None and own.is_dir() else None)
        try:
            again = compile_files(pack.id, files).content_hash
        except (PackError, OSError, ValueError) as exc:
            again = f"no pack ({exc})"
        async with db.transaction() as tx:
            if again != pack.content_hash:  # the files changed since they were compiled
                await records.ensure_jurisdiction(tx, pack, now)
                warnings.append(_warn(f"pack {pack.id} version {pack.content_hash}: not archived, its files "
                                      f"now compile to {again}; archived at a later start-up if they change back"))
                continue
            await store(tx, pack, files, now)
    return warnings


async def restore(registry: Registry) -> list[str]:
    """Add to ``registry`` every archived version it does not hold; warnings (never raises for
    a bad archive: it is reported and skipped)."""
    conn = db.connection()
    rows = await db.fetch(conn, "SELECT jurisdiction_id, content_hash FROM pack_versions WHERE archive IS NOT NULL")
    warnings = []
    for row in rows:
        pack_id, content_hash = row["jurisdiction_id"], row["content_hash"]
        if _holds(registry, pack_id, content_hash):
            continue
        found = await db.fetch(conn, "SELECT archive, effective_from FROM pack_versions WHERE jurisdiction_id = ? "
                               "AND content_hash = ?", [pack_id, content_hash])
        try:
            pack = compile_files(pack_id, json.loads(found[0]["archive"]))
        except (PackError, OSError, ValueError, TypeError) as exc:
            warnings.append(_warn(f"pack {pack_id} version {content_hash}: archive does not compile, "
                                  f"its cases cannot be loaded: {exc}"))
            continue
        if pack.content_hash != content_hash:
            warnings.append(_warn(f"pack {pack_id} version {content_hash}: archive now compiles to hash "
                                  f"{pack.content_hash}; kept under the archived hash {content_hash} "
                                  "that its records pin"))
            pack = dataclasses.replace(pack, content_hash=content_hash)
        effective = found[0]["effective_from"]  # an activated upload's date is the row's, not the file's
        if isinstance(effective, str):
            effective = date.fromisoformat(effective[:10])
        registry.add(dataclasses.replace(pack, effective_from=effective), behind=True)
    return warnings


async def startup(registry: Registry, policies: Path | None = None, forms: Path | None = None,
                  templates: Path | None = None, uploads: Path | None = None) -> list[str]:
    """What a process does once its registry is compiled from files: archive the versions it
    holds, then restore the archived ones it does not. Warnings (also logged)."""
    packs = [p for j in registry.jurisdictions() for p in registry.versions(j)]
    warnings = await archive_versions(packs, policies, forms, templates, uploads)
    return warnings + await restore(registry)


def _holds(registry: Registry, pack_id: str, content_hash: str) -> bool:
    try:
        registry.pinned(pack_id, content_hash)
    except LookupError:
        return False
    return True


def _warn(message: str) -> str:
    log.warning("%s", message)
    return message

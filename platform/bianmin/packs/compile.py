"""From pack folders to compiled :class:`~bianmin.packs.model.Pack` values.

    read (YAML + marks) → resolve `extends` → merge → schema → semantic checks → build → hash

A pack is accepted whole or not at all: any problem raises :class:`PackError` listing every
problem found. A :class:`Compiler` reads each file once, so checking all packs parses
``_base`` once however many packs extend it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths
from ..calendar import CalendarConfig, CalendarDay, CalendarYear
from . import check, merge, schema
from .loader import Map, Mark
from .model import Pack, build
from .problems import PackError, Problem, sort_problems
from .source import PackSource, display_path, read_pack

REQUIRED_METADATA = ("id", "name", "level", "version", "effective_from")


@dataclass
class _Merged:
    document: Map
    lineage: tuple[PackSource, ...]  # the pack first, then what it extends
    problems: list[Problem]


class Compiler:
    """Compiles packs found in ``policies`` (folders named by pack id)."""

    def __init__(self, policies: Path | None = None, forms: Path | None = None, templates: Path | None = None) -> None:
        self.policies = policies or paths.policies_dir()
        self.forms = forms or paths.forms_dir()
        self.templates = templates or paths.templates_dir()
        self._sources: dict[Path, tuple[PackSource, list[Problem]]] = {}
        self._merged_cache: dict[Path, _Merged] = {}
        self._templates: dict[Path, check.TemplateAnalysis] = {}
        self._expressions: dict[str, str | None] = {}

    def compile(self, folder: Path | str) -> Pack:
        """The compiled pack in ``folder``; raises :class:`PackError` listing every problem."""
        pack, problems = self.try_compile(Path(folder))
        if pack is None:
            raise PackError(problems)
        return pack

    def try_compile(self, folder: Path) -> tuple[Pack | None, list[Problem]]:
        merged = self._merged(folder.resolve(), ())
        problems = list(merged.problems)
        if problems and any(p.rule.startswith(("yaml-", "duplicate-key", "file-", "pack-missing", "extends-")) for p in problems):
            return None, sort_problems(problems)  # the document itself is incomplete
        problems += schema.validate(merged.document)
        problems += self._metadata(merged)
        folders = tuple(source.folder for source in merged.lineage)
        ctx = check.Context(
            merged.document, folders,
            forms_dirs=(*(f / "forms" for f in folders), self.forms),
            templates_dirs=(*(f / "templates" for f in folders), self.templates),
            template_cache=self._templates, expression_cache=self._expressions,
        )
        if not problems:  # semantic checks assume the shapes the schema guarantees
            problems += check.check(ctx)
        if problems:
            return None, sort_problems(problems)
        return self._build(merged, ctx), []

    # -- reading and merging ----------------------------------------------------------------

    def _read(self, folder: Path) -> tuple[PackSource, list[Problem]]:
        if folder not in self._sources:
            source, problems = read_pack(folder)
            merge.duplicate_ids(source.document, problems)
            self._sources[folder] = (source, problems)
        return self._sources[folder]

    def _merged(self, folder: Path, chain: tuple[str, ...]) -> _Merged:
        if folder not in self._merged_cache:  # `_base` is merged once, not once per child
            self._merged_cache[folder] = self._merge(folder, chain)
        return self._merged_cache[folder]

    def _merge(self, folder: Path, chain: tuple[str, ...]) -> _Merged:
        source, own_problems = self._read(folder)
        problems = list(own_problems)
        parent_id = source.document.get("extends")
        if not isinstance(parent_id, str):
            return _Merged(merge.check_root(source.document, problems), (source,), problems)
        mark = source.document.value_marks["extends"]
        if parent_id in chain or parent_id == source.id:
            problems.append(Problem(mark, "extends-cycle", f"`extends: {parent_id}` makes a cycle: "
                                    + " → ".join((*chain, source.id, parent_id))))
            return _Merged(source.document, (source,), problems)
        parent_folder = self._find(folder, parent_id)
        if parent_folder is None:
            known = sorted(p.name for p in folder.parent.iterdir() if (p / "pack.yaml").is_file())
            problems.append(Problem(mark, "extends-unknown",
                                    f"`extends: {parent_id}` names no pack; packs here: {', '.join(known)}"))
            return _Merged(source.document, (source,), problems)
        parent = self._merged(parent_folder, (*chain, source.id))
        problems += parent.problems
        document = merge.merge(parent.document, source.document, problems)
        return _Merged(document, (source, *parent.lineage), problems)

    def _find(self, folder: Path, pack_id: str) -> Path | None:
        for base in (folder.parent, self.policies):
            candidate = base / pack_id
            if (candidate / "pack.yaml").is_file():
                return candidate.resolve()
        return None

    def _metadata(self, merged: _Merged) -> list[Problem]:
        """Identity comes from the pack's own pack.yaml, never from what it extends."""
        own = merged.lineage[0]
        problems = []
        for key in REQUIRED_METADATA:
            if own.document.get(key) is None:
                problems.append(Problem(Mark(display_path(own.folder / "pack.yaml"), 1, 1), "missing-key",
                                        f"pack.yaml needs `{key}` (packs do not inherit their identity)"))
        pack_id = own.document.get("id")
        if isinstance(pack_id, str) and pack_id != own.id:
            problems.append(Problem(own.document.value_marks["id"], "pack-id",
                                    f"id {pack_id!r} must match the folder name {own.id!r}"))
        return problems

    # -- building ---------------------------------------------------------------------------

    def _build(self, merged: _Merged, ctx: check.Context) -> Pack:
        doc = merged.document
        own = merged.lineage[0].document
        fields = {k: v for k, v in doc.items() if k not in ("calendar", "extends")}
        fields.update({k: own[k] for k in REQUIRED_METADATA})
        pack = build(Pack, {
            **fields,
            "content_hash": content_hash(merged, ctx),
            "lineage": [s.id for s in merged.lineage],
        })
        # The calendar section becomes the calendar module's own configuration type.
        return dataclasses.replace(pack, calendar=calendar_config(doc))


def calendar_config(doc: Map) -> CalendarConfig:
    """The pack's `calendar` section as the calendar module's configuration."""
    raw = doc.get("calendar") or {}
    years = tuple(
        CalendarYear(
            year=y["year"],
            holidays=tuple((d, h["name"]) for h in y.get("holidays", ()) for d in _span(h)),
            workdays=tuple(dt.date.fromisoformat(d) for d in y.get("workdays", ())),
            source=y["source"],
        )
        for y in raw.get("years", ())
    )
    overrides = tuple(
        CalendarDay(d, o["kind"], o["name"], o["source"]) for o in raw.get("overrides", ()) for d in _span(o)
    )
    provisional = raw.get("provisional") or {}
    return CalendarConfig(
        provider=raw.get("provider", "chinese_calendar"), years=years, overrides=overrides,
        provisional_allowed=bool(provisional.get("allowed", False)),
    )


def _span(entry: dict[str, Any]) -> tuple[dt.date, ...]:
    first = dt.date.fromisoformat(entry["date"])
    last = dt.date.fromisoformat(entry.get("to") or entry["date"])
    return tuple(dt.date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1))


def content_hash(merged: _Merged, ctx: check.Context) -> str:
    """Hash of everything that decides the pack's behaviour: its files, those of what it
    extends, and the templates and forms they name. A case pins this hash."""
    digest = hashlib.sha256()
    for source in merged.lineage:
        digest.update(source.id.encode() + b"\0" + source.digest.encode())
    for document in check._records(merged.document, "documents"):
        path = check.find_file(ctx.templates_dirs, document["template"])
        if path is not None:
            digest.update(document["template"].encode() + b"\0" + path.read_bytes())
    forms = {i.get("form", "intake") for i in check._records(merged.document, "items")}
    for workflow in check._records(merged.document, "workflows"):
        forms |= {t["form"] for t in check._records(workflow, "transitions") if "form" in t}
    for form in sorted(forms):
        path = check.find_file(ctx.forms_dirs, f"{form}.yaml")
        if path is not None:
            digest.update(form.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()

"""Pack versions per jurisdiction.

Several versions of one jurisdiction's pack may coexist: a case pins the version (by content
hash) it started under and keeps it until it closes, while new cases take the version in
force on their date (the latest `effective_from` not after it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .compile import Compiler
from .model import Pack
from .problems import PackError, Problem


class UnknownPack(LookupError):
    pass


@dataclass
class Registry:
    _versions: dict[str, dict[str, Pack]] = field(default_factory=dict)

    @classmethod
    def load(cls, policies: Path, compiler: Compiler | None = None) -> tuple[Registry, list[Problem]]:
        """Every jurisdiction pack under ``policies`` (folders starting with `_` are bases only).

        A pack with problems is left out and its problems returned: one bad pack never stops
        the others from loading.
        """
        compiler = compiler or Compiler(policies)
        registry, problems = cls(), []
        for folder in sorted(p for p in policies.iterdir() if (p / "pack.yaml").is_file()):
            try:
                pack = compiler.compile(folder)
            except PackError as exc:
                problems.extend(exc.problems)
                continue
            if not folder.name.startswith("_"):
                registry.add(pack)
        return registry, problems

    def add(self, pack: Pack, *, behind: bool = False) -> None:
        """Register ``pack``; ``behind`` (a version restored from the store's archive) loses a tie
        of ``(effective_from, version)`` against the versions already held."""
        held = self._versions.setdefault(pack.id, {})
        if behind and pack.content_hash not in held:
            self._versions[pack.id] = {pack.content_hash: pack, **held}
        else:
            held[pack.content_hash] = pack

    def jurisdictions(self) -> list[str]:
        return sorted(self._versions)

    def versions(self, pack_id: str) -> list[Pack]:
        return sorted(self._known(pack_id).values(), key=lambda p: (p.effective_from, p.version))

    def pinned(self, pack_id: str, content_hash: str) -> Pack:
        """The exact version a case started under."""
        try:
            return self._known(pack_id)[content_hash]
        except KeyError:
            raise UnknownPack(f"pack {pack_id!r} has no version {content_hash[:12]}") from None

    def active(self, pack_id: str, on: dt.date | None = None) -> Pack:
        """The version in force on ``on`` (today by default)."""
        day = on or dt.date.today()
        candidates = [p for p in self.versions(pack_id) if p.effective_from <= day]
        if not candidates:
            raise UnknownPack(f"no version of pack {pack_id!r} is in force on {day.isoformat()}")
        return candidates[-1]

    def _known(self, pack_id: str) -> dict[str, Pack]:
        if pack_id not in self._versions:
            raise UnknownPack(f"no pack {pack_id!r}; known: {', '.join(self.jurisdictions())}")
        return self._versions[pack_id]

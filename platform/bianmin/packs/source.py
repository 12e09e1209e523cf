"""Reading a pack folder: its YAML files form one document.

A pack is a folder under ``policies/``. Every ``*.yaml`` file directly inside it contributes
top-level keys; a key may be defined by one file only, so each topic has one obvious home.
Sub-folders are not part of the document: ``tests/`` holds scenarios, ``forms/`` and
``templates/`` hold the pack's overrides of the shared ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import hashlib

from .loader import LoadError, Map, Mark, load_bytes
from .problems import Problem


@dataclass(frozen=True)
class PackSource:
    """One pack folder as written: its merged top-level document and where it lives."""

    folder: Path
    document: Map
    files: tuple[Path, ...]
    digest: str  # of the files' names and bytes: what the pack's rules are made of

    @property
    def id(self) -> str:
        return self.folder.name


def display_path(path: Path) -> str:
    """Paths in messages are relative to the working directory when possible (as editors want)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_pack(folder: Path) -> tuple[PackSource, list[Problem]]:
    files = tuple(sorted(p for p in folder.glob("*.yaml") if p.is_file()))
    document = Map(Mark(display_path(folder / "pack.yaml"), 1, 1))
    problems: list[Problem] = []
    digest = hashlib.sha256()
    if not (folder / "pack.yaml").is_file():
        problems.append(Problem(
            Mark(display_path(folder), 1, 1), "pack-missing",
            "a pack folder needs a pack.yaml with its id, name, level, version and effective_from",
        ))
    for path in files:
        try:
            data = path.read_bytes()
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
            loaded = load_bytes(data, display_path(path))
        except LoadError as exc:
            problems.append(Problem(exc.mark, exc.rule, exc.message))
            continue
        if loaded is None:
            continue
        if not isinstance(loaded, Map):
            problems.append(Problem(
                getattr(loaded, "mark", Mark(display_path(path), 1, 1)), "file-not-mapping",
                "a pack file must be a mapping of top-level keys (such as `items:`)",
            ))
            continue
        for key, value in loaded.items():
            if key in document:
                problems.append(Problem(
                    loaded.key_marks[key], "duplicate-section",
                    f"top-level key {key!r} is already defined in {document.key_marks[key]}; "
                    "keep each top-level key in one file",
                ))
                continue
            document[key] = value
            document.key_marks[key] = loaded.key_marks[key]
            document.value_marks[key] = loaded.value_marks[key]
    return PackSource(folder, document, files, digest.hexdigest()), problems

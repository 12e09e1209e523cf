"""The source of each pack version (``pack_versions.archive``), so a case keeps its rules after the
pack's files change: a JSON mapping of relative path (``policies/<id>/...``, ``forms/...``,
``templates/...``) to text, restored and compiled at start-up (store/archive.py). NULL for rows
made before this migration until a start-up archives the version from files that still produce it.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    # TEXT on both: the files' exact text, parsed only when restored (never queried inside).
    return ["ALTER TABLE pack_versions ADD COLUMN archive TEXT"]

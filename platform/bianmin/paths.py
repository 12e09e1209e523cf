"""Where the project's data folders are.

A source checkout keeps ``policies/``, ``forms/``, ``templates/`` and ``plugins/`` at its top
level, two folders above this package. ``BIANMIN_HOME`` points elsewhere (an installed copy
serving a deployment's own packs).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("BIANMIN_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2]


def policies_dir() -> Path:
    return home() / "policies"


def forms_dir() -> Path:
    return home() / "forms"


def templates_dir() -> Path:
    return home() / "templates"

"""Where the project's data folders are.

A source checkout keeps ``policies/``, ``forms/``, ``templates/`` and ``plugins/`` at its top
level, two folders above this package. ``BIANMIN_HOME`` points elsewhere (an installed copy
serving a deployment's own packs).
"""

from __future__ import annotations

import os
from pathlib import Path


_CHECKOUT = Path(__file__).resolve().parents[2]  # resolved once: documents ask on every render


def home() -> Path:
    env = os.environ.get("BIANMIN_HOME")
    if env:
        return Path(env)
    return _CHECKOUT


def policies_dir() -> Path:
    env = os.environ.get("BIANMIN_POLICIES")  # docs/deploy.md#environment
    return Path(env) if env else home() / "policies"


def forms_dir() -> Path:
    return home() / "forms"


def templates_dir() -> Path:
    return home() / "templates"

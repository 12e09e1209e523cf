"""Policy packs: loading, checking and compiling the YAML rule sets of jurisdictions.

Public surface::

    Compiler(policies_dir).compile(folder) -> Pack   # raises PackError with every problem
    Registry.load(policies_dir)                       # every pack version, by jurisdiction
    calendar_config_for(pack_id) -> CalendarConfig
"""

from __future__ import annotations

from .compile import Compiler
from .model import Pack
from .problems import PackError, Problem
from .registry import Registry

__all__ = ["Compiler", "Pack", "PackError", "Problem", "Registry", "calendar_config_for"]


def calendar_config_for(pack_id: str):
    """The calendar configuration of the pack ``pack_id`` in the project's policies folder."""
    from .. import paths

    return Compiler().compile(paths.policies_dir() / pack_id).calendar

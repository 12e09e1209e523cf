"""The one Jinja2 environment for everything a pack authors: templates and expressions.

Pack text is data written by policy officers, not trusted code: it runs in Jinja2's
``SandboxedEnvironment`` (no access to private attributes or unsafe callables), HTML is
autoescaped, and an unknown variable is an error rather than a silent blank.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

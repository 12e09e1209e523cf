"""Message catalogues: ``locale/<code>.yaml`` maps dotted keys to text, Chinese by default.

A missing key in another language falls back to the Chinese text, and a key missing there too
shows as itself, so a half-translated catalogue never breaks a page. Adding a language is adding
a file; ``?lang=en`` on any page switches the session to it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

DEFAULT = "zh_CN"
LOCALE_DIR = Path(__file__).with_name("locale")


@functools.cache
def catalogue(code: str) -> dict[str, str]:
    path = LOCALE_DIR / f"{code}.yaml"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return _flatten(yaml.safe_load(fh) or {})


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = str(value)
    return out


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALE_DIR.glob("*.yaml"))


class Translator:
    def __init__(self, code: str = DEFAULT) -> None:
        self.code = code if code in languages() else DEFAULT
        self._own = catalogue(self.code)
        self._default = catalogue(DEFAULT)

    @property
    def html_lang(self) -> str:
        return self.code.replace("_", "-")

    def __call__(self, key: str, **values: Any) -> str:
        text = self._own.get(key) or self._default.get(key) or key
        return text.format(**values) if values else text

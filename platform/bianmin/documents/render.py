"""Rendering a pack's document: template lookup, the `document` variable, a canonical hash.

    render_document(pack, "receipt_slip", context, number="XP-2026-000031",
                    issued_on=date(2026, 1, 5), window="general_window",
                    status_url="https://.../s/XP-2026-000031") -> RenderedDocument

The template is looked up by name in the pack's `templates/`, then in those of the packs it
extends, then in the shared `templates/` (the order the pack checker uses), and rendered in the
project's sandbox (`bianmin.sandbox`: autoescape, and a missing variable is an error, not a
blank on an official notice). The caller passes the variables of the document's context
(`documents/contexts.py`, docs/documents.md) except those every document gets, which are built
here: `pack`, `centre` (the pack's, unless the context names another centre of the
jurisdiction), `today` (the issue date) and `document`.

The HTML depends on nothing but these inputs — no clock, no randomness, no environment — so a
reprint from the archived inputs is byte for byte the same, and `content_hash` (sha256 of the
UTF-8 HTML) proves it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from jinja2 import FileSystemLoader
from jinja2.exceptions import TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from .. import paths
from ..packs.check import find_file
from ..packs.model import Pack
from ..sandbox import environment
from .contexts import COMMON, CONTEXTS
from .qr import qr_svg
from .views import PackView, window_view

# Variables built here; a context may still name `centre` (a township centre of the pack).
_BUILT = frozenset({"pack", "document", "today"})


class DocumentError(ValueError):
    """A document cannot be rendered: unknown id, wrong variables, or a template error."""


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    html: str
    content_hash: str  # sha256 of the UTF-8 bytes of `html`, hex
    paper: str  # a4 | receipt80: which printer


def template_dirs(pack: Pack, *, policies: Path | None = None, shared: Path | None = None) -> tuple[Path, ...]:
    """Where the pack's templates are looked up, first match wins (as the pack checker does)."""
    policies = policies or paths.policies_dir()
    return (*(policies / pack_id / "templates" for pack_id in pack.lineage), shared or paths.templates_dir())


class _Loader(FileSystemLoader):
    """First match wins, and a compiled template is stale when its file changed or when a file
    of the same name appeared in a folder searched before it (a pack adds its own version)."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        found = Path(filename).resolve()
        earlier = []
        for folder in self.searchpath:
            candidate = Path(folder) / template
            if candidate.resolve() == found:
                break
            earlier.append(candidate)
        return source, filename, lambda: uptodate() and not any(p.is_file() for p in earlier)


@lru_cache(maxsize=64)
def _environment(dirs: tuple[str, ...]) -> SandboxedEnvironment:
    """The project's sandbox reading these folders; one per lineage, so templates compile once."""
    return environment().overlay(loader=_Loader(list(dirs)), auto_reload=True)


def render_document(pack: Pack, document_id: str, context: Mapping[str, Any], *, number: str | None,
                    issued_on: date, window: Any = None, status_url: str | None = None,
                    policies: Path | None = None, templates: Path | None = None) -> RenderedDocument:
    """Render document `document_id` of `pack` with the variables of its context.

    `window` is the issuing window (an id of the pack, a `Window`, a `{id, name, phone}`
    mapping, or None); `status_url` is where the applicant follows the matter (printed with
    its QR code). `policies` and `templates` replace the project's folders (tests, a
    deployment's own packs).
    """
    try:
        doc = pack.document(document_id)
    except KeyError:
        known = ", ".join(d.id for d in pack.documents)
        raise DocumentError(f"pack {pack.id!r} has no document {document_id!r}; it has: {known}") from None
    _check_variables(doc.id, doc.context, context)
    dirs = template_dirs(pack, policies=policies, shared=templates)
    if find_file(dirs, doc.template) is None:
        raise DocumentError(f"document {doc.id!r}: template {doc.template!r} not found in "
                            + ", ".join(str(d) for d in dirs))
    try:
        issuing_window = window_view(pack, window)
    except KeyError as e:
        raise DocumentError(f"document {doc.id!r}: {e.args[0]}") from None
    variables = dict(context)
    variables.setdefault("centre", pack.centre)
    variables["pack"] = PackView(pack)
    variables["today"] = issued_on
    variables["document"] = {
        "id": doc.id, "name": doc.name, "number": number, "paper": doc.paper, "issued_on": issued_on,
        "window": issuing_window, "status_url": status_url,
        "qr_svg": qr_svg(status_url) if status_url else None,
        "provisional": any_provisional(context.values()),
    }
    try:
        html = _environment(tuple(map(str, dirs))).get_template(doc.template).render(variables)
    except UndefinedError as e:
        raise DocumentError(f"document {doc.id!r} ({doc.template}): {e}; every variable the template "
                            f"prints must be given (docs/documents.md, context {doc.context!r})") from e
    except TemplateError as e:
        raise DocumentError(f"document {doc.id!r} ({doc.template}): {e}") from e
    html = html.rstrip() + "\n"
    return RenderedDocument(html, hashlib.sha256(html.encode("utf-8")).hexdigest(), doc.paper)


def _check_variables(document_id: str, context_name: str, given: Mapping[str, Any]) -> None:
    allowed = CONTEXTS[context_name]
    needed = allowed - COMMON
    problems = []
    missing = sorted(needed - set(given))
    if missing:
        problems.append("missing " + ", ".join(missing))
    extra = sorted(set(given) - (allowed - _BUILT))
    if extra:
        problems.append("not in the context: " + ", ".join(extra)
                        + (" (pack, document and today are built by render_document)" if set(extra) & _BUILT else ""))
    if problems:
        raise DocumentError(f"document {document_id!r} (context {context_name!r}): " + "; ".join(problems))


def any_provisional(values: Iterable[Any], depth: int = 0) -> bool:
    """True when any deadline among `values` (a `{date, provisional}` mapping or an object with
    those attributes, at any depth of mappings and lists) rests on a provisional calendar."""
    if depth > 6:
        return False
    for value in values:
        if isinstance(value, (str, int, float, bool)) or value is None:  # most values: answered at once
            continue
        if isinstance(value, (dict, Mapping)):
            if value.get("provisional") is True and "date" in value:
                return True
            if any_provisional(value.values(), depth + 1):
                return True
        elif isinstance(value, (list, tuple)):
            if any_provisional(value, depth + 1):
                return True
        elif getattr(value, "provisional", None) is True and hasattr(value, "date"):
            return True
    return False

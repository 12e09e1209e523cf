"""The variables each kind of document template may use.

A pack's `documents` entry names a `context`; its template may use exactly these top-level
variables (the pack checker rejects any other name, so a typo is an error, not a blank).
Attributes are described in docs/documents.md.
"""

from __future__ import annotations

# Every document gets these.
COMMON = frozenset({
    "pack",       # the compiled pack: name, centre, hotlines, commitments, ratings ...
    "centre",     # pack.centre: name, address, phone
    "document",   # number, name, issued_on, window, status_url, qr_svg, provisional
    "today",      # date of issue
})

CONTEXTS: dict[str, frozenset[str]] = {
    # One case (办件): applicant, item, materials, clocks, the form data of the transition.
    "case": COMMON | {"case", "item", "applicant", "materials", "deadlines", "clerk", "window", "data"},
    "inquiry": COMMON | {"inquiry", "visitor", "officer", "handler", "window", "data"},
    "complaint": COMMON | {"complaint", "category", "complainant", "data"},
    "negative_report": COMMON | {"report", "case", "item", "applicant", "handler", "data"},
    "unresolved_matter": COMMON | {"matter", "reporter", "window", "data"},
    "agency": COMMON | {"agency", "client", "agent", "item", "data"},
    # A register lists many records for a period.
    "register": COMMON | {"title", "rows", "period", "columns"},
    "item": COMMON | {"item", "department", "window"},
    "pack": COMMON,
}

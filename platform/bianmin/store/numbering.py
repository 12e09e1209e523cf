"""Record and document numbers: unique and gap-free per jurisdiction, kind and year.

    JY-2026-000123        a case (办件编号) of jiangyin in 2026
    JY-TS-2026-000007     a complaint (投诉); other kinds carry a two-letter code
    JY-WS-2026-000045     a document (文书), one series for all of a jurisdiction's documents

The next number is taken with one atomic ``UPDATE counters SET value = value + 1 ... RETURNING
value`` inside the transaction that stores the record or document: concurrent intakes queue on
the counter row, and a rolled-back intake gives its number back (no gaps).
"""

from __future__ import annotations

import re

from tortoise.backends.base.client import BaseDBAsyncClient

from . import db

# Two-letter codes of the non-case kinds (pinyin initials of their Chinese names).
KIND_CODES = {
    "case": "", "complaint": "TS", "inquiry": "SW", "negative_report": "FD", "unresolved_matter": "BC",
    "rectification": "ZG", "agency": "DB", "deduction": "KF", "handover": "JJ", "assigned_matter": "JB",
    "document": "WS",
}
WIDTH = 6

_INITIALS = r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_FINALS = (r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|uai|ian|iao|uan|van|ai|ei|ao|ou|an|en|er|in|un|"
           r"ia|ie|iu|ua|uo|ue|ui|ve|a|o|e|i|u|v)")
_SYLLABLE = re.compile(f"({_INITIALS}){_FINALS}")


def prefix_for(jurisdiction_id: str) -> str:
    """The number prefix of a jurisdiction: the initials of its pinyin id (jiangyin → JY,
    dahepin → DHP); an id that is not pinyin gives its first three letters (upper case)."""
    text = jurisdiction_id.lower()
    syllables, at = [], 0
    while at < len(text):
        match = _SYLLABLE.match(text, at)
        if match is None or match.end() == at:
            break
        syllables.append(match.group(0))
        at = match.end()
    if at == len(text) and syllables:
        return "".join(s[0] for s in syllables).upper()
    return re.sub(r"[^A-Za-z0-9]", "", jurisdiction_id)[:3].upper() or "X"


def format_number(prefix: str, kind: str, year: int, value: int) -> str:
    code = KIND_CODES.get(kind, kind[:2].upper())
    middle = f"{code}-" if code else ""
    return f"{prefix}-{middle}{year}-{value:0{WIDTH}d}"


def take(jurisdiction: str, kind: str, year: int) -> db.Program[int]:
    """The next number of the series (a program: it runs in the transaction that uses the number)."""
    key = [jurisdiction, kind, year]
    rows = yield db.Fetch(_BUMP, key)
    if not rows:  # the series' first number: make its row (a concurrent first waits on it), then bump
        yield db.Execute("INSERT INTO counters (jurisdiction, kind, year, value) VALUES (?, ?, ?, 0) "
                         "ON CONFLICT (jurisdiction, kind, year) DO NOTHING", key)
        rows = yield db.Fetch(_BUMP, key)
    return int(rows[0]["value"])


_BUMP = "UPDATE counters SET value = value + 1 WHERE jurisdiction = ? AND kind = ? AND year = ? RETURNING value"


async def next_value(conn: BaseDBAsyncClient, jurisdiction: str, kind: str, year: int) -> int:
    """The next number of the series; ``conn`` must be the caller's transaction."""
    return await db.run(conn, take, jurisdiction, kind, year)


async def next_number(conn: BaseDBAsyncClient, jurisdiction: str, prefix: str, kind: str, year: int) -> str:
    return format_number(prefix, kind, year, await next_value(conn, jurisdiction, kind, year))

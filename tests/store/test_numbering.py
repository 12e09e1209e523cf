"""Number formats (docs/persistence.md); the concurrent, gap-free part is in test_service.py."""

from __future__ import annotations

import pytest

from bianmin.store.numbering import format_number, prefix_for


@pytest.mark.parametrize(("jurisdiction", "prefix"), [
    ("jiangyin", "JY"), ("xupu", "XP"), ("taihe", "TH"), ("taishan", "TS"), ("dahepin", "DHP"),
    ("guangzhou", "GZ"), ("test-1", "TES"),
])
def test_prefix_is_the_pinyin_initials(jurisdiction, prefix):
    assert prefix_for(jurisdiction) == prefix


def test_formats():
    assert format_number("JY", "case", 2026, 123) == "JY-2026-000123"
    assert format_number("JY", "complaint", 2026, 7) == "JY-TS-2026-000007"
    assert format_number("JY", "document", 2026, 45) == "JY-WS-2026-000045"
    assert format_number("JY", "case", 2026, 1234567) == "JY-2026-1234567"  # widens, never wraps

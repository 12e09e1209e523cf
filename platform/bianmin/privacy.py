"""Masking personal data for print and export: the one place that decides what a mask looks like.

A register exported to a spreadsheet travels further than the database it came from, so the
resident ID numbers and phone numbers in it are masked unless the export is explicitly
unmasked; documents handed to an applicant print their ID number masked too (docs/documents.md).

    mask_id_number("11010519491231002X") == "110105********002X"   # region code and last 4 kept
    mask_phone("13812345678") == "138****5678"                       # carrier prefix and last 4 kept
    mask_phone("0510-86860211") == "0510-****0211"                   # area code and last 4 kept
    mask_name("欧阳明") == "欧阳*"                                    # the surname kept

Free text and the details of an audit entry are masked with ``mask_text`` / ``mask_details``:
every ID number and phone number found in them, and values under personal keys.

Masking is idempotent (a masked value masks to itself), keeps the length, and never raises: a
value of the wrong shape is masked all but its last characters rather than printed whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Two-character surnames (复姓) that keep both characters when a name is masked.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 南宫 西门 呼延".split()
)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def mask_id_number(value: Any) -> str:
    """A resident ID number with its birth date and sequence hidden: 110105********002X."""
    text = _text(value)
    if len(text) <= 4:
        return "*" * len(text)
    if len(text) < 10:  # not an ID number: keep only the last two characters
        return "*" * (len(text) - 2) + text[-2:]
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: Any) -> str:
    """A phone number with its middle hidden: 138****5678, 0510-****0211, 0510-****0211-12."""
    text = _text(value)
    if not text:
        return ""
    head, extension = text, ""
    if text.count("-") >= 2:  # a landline with an extension: area-number-extension
        cut = text.rfind("-")
        head, extension = text[:cut], text[cut:]
    if "-" in head:  # a landline: keep the area code
        area, _, number = head.partition("-")
        return f"{area}-{_middle(number, 0, 4)}{extension}"
    if len(head) == 11:  # a mainland mobile: keep the carrier prefix
        return _middle(head, 3, 4) + extension
    return _middle(head, min(3, max(len(head) - 8, 0)), 4) + extension


def _middle(text: str, keep_start: int, keep_end: int) -> str:
    if len(text) <= keep_end:
        return "*" * len(text)
    hidden = len(text) - keep_start - keep_end
    return text[:keep_start] + "*" * hidden + text[len(text) - keep_end:]


def mask_name(value: Any) -> str:
    """A person's name with only the surname shown: 钱*, 欧阳*; an organisation's name as is.

    A Chinese name of two to four characters is a person's; a longer one (江阴市某某餐饮有限公司)
    is an organisation's and is not personal data. Other names keep their first letter.
    """
    text = _text(value)
    if not text:
        return ""
    if all("\u4e00" <= c <= "\u9fff" or c in "·*" for c in text):
        if len(text) > 4:
            return text
        keep = 2 if text[:2] in _COMPOUND_SURNAMES and len(text) > 2 else 1
        return text[:keep] + "*" * (len(text) - keep)
    return text[0] + "".join(c if c == " " else "*" for c in text[1:])


# An 18-character resident ID number, a mainland mobile, a landline with its area code.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8})(?![0-9A-Za-z])")


def mask_text(value: Any) -> str:
    """Free text with every ID number and phone number in it masked (a typed user name, a note)."""
    text = "" if value is None else str(value)
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


_PERSONAL = (("id_number", mask_id_number), ("phone", mask_phone), ("name", mask_name))


def mask_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping as it may be logged: a value under a key naming an ID number, a phone or a
    person's name (``applicant_name``, ``visitor_phone`` ...) masked as such, any other text with
    ``mask_text``; nested mappings and lists likewise."""
    return {str(k): _mask_value(str(k), v) for k, v in details.items()}


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return mask_details(value)
    if isinstance(value, (list, tuple)):
        return [_mask_value(key, v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    for suffix, mask in _PERSONAL:
        if key == suffix or key.endswith("_" + suffix):
            return mask(value)
    return mask_text(value)

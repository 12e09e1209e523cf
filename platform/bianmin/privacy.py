"""Masking personal data for print and export: the one place that decides what a mask looks like.

A register exported to a spreadsheet travels further than the database it came from, so the
resident ID numbers and phone numbers in it are masked unless the export is explicitly
unmasked; documents handed to an applicant print their ID number masked too (docs/documents.md).

    mask_id_number("11010519491231002X") == "110105********002X"   # region code and last 4 kept
    mask_phone("13812345678") == "138****5678"                       # carrier prefix and last 4 kept
    mask_phone("0510-86860211") == "0510-****0211"                   # area code and last 4 kept
    mask_name("欧阳明") == "欧阳*"                                    # the surname kept

Masking is idempotent (a masked value masks to itself), keeps the length, and never raises: a
value of the wrong shape is masked all but its last characters rather than printed whole.
"""

from __future__ import annotations

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

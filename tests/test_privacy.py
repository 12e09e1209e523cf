"""Masks of personal data: one look everywhere (exports, printed ID numbers)."""

from __future__ import annotations

import pytest
from bianmin.privacy import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(("raw", "masked"), [
    ("11010519491231002X", "110105********002X"),
    ("320281198503121234", "320281********1234"),
    ("110105********002X", "110105********002X"),  # idempotent
    ("", ""), (None, ""), ("12", "**"),
])
def test_id_number(raw, masked):
    assert mask_id_number(raw) == masked


@pytest.mark.parametrize(("raw", "masked"), [
    ("13812345678", "138****5678"),
    ("0510-86860211", "0510-****0211"),
    ("0510-86860211-123", "0510-****0211-123"),
    ("010-62345678", "010-****5678"),
    ("138****5678", "138****5678"),
    (13812345678, "138****5678"),
    ("", ""),
])
def test_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(("raw", "masked"), [
    ("钱七", "钱*"), ("张三丰", "张**"), ("欧阳明", "欧阳*"), ("江阴市某某餐饮有限公司", "江阴市某某餐饮有限公司"),
    ("John Smith", "J*** *****"), (None, ""),
])
def test_name(raw, masked):
    assert mask_name(raw) == masked


def test_masks_keep_no_digit_of_the_birth_date():
    assert "19491231" not in mask_id_number("11010519491231002X")

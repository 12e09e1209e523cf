"""Resident ID numbers (GB 11643), unified social credit codes (GB 32100) and phone numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bianmin.forms import check_credit_code, check_id_number, check_phone
from bianmin.forms.validators import credit_code_check_char, id_number_check_char

TODAY = date(2026, 1, 5)


# -- resident ID --------------------------------------------------------------------------------

def test_classic_id_number_is_valid():
    # Worked by hand: Σ digit×weight = 167, 167 mod 11 = 2, and position 2 of "10X98765432" is X.
    assert id_number_check_char("11010519491231002") == "X"
    assert check_id_number("11010519491231002X", TODAY) is None


@pytest.mark.parametrize("number, message", [
    ("110105194912310021", "校验位不正确"),
    ("11010519491231002", "应为18位身份证号码"),
    ("11010519491231002XX", "应为18位身份证号码"),
    ("1101051949123100AX", "前17位应为数字"),
    ("11010519491231002x", "最后一位应为数字或大写字母X"),
    ("00010519491231002X", "前两位地址码不正确"),
    ("110105194902300020", "出生日期(第7至14位)不是有效日期"),
    ("110105189912310020", "出生日期(第7至14位)不在合理范围内"),
    ("110105202701010020", "出生日期(第7至14位)不在合理范围内"),
])
def test_invalid_id_numbers_say_what_is_wrong(number, message):
    assert check_id_number(number, TODAY) == message


def test_id_number_born_today_is_valid_and_tomorrow_is_not():
    body = "3202812026010500" + "1"
    assert check_id_number(body + id_number_check_char(body), TODAY) is None
    later = "3202812026010600" + "1"
    assert check_id_number(later + id_number_check_char(later), TODAY) == "出生日期(第7至14位)不在合理范围内"


_provinces = st.sampled_from(["11", "32", "43", "44", "65", "81"])
_births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@given(_provinces, st.from_regex(r"[0-9]{4}", fullmatch=True), _births, st.from_regex(r"[0-9]{3}", fullmatch=True))
def test_every_single_digit_change_of_an_id_number_is_caught(province, region, born, seq):
    body = province + region + born.strftime("%Y%m%d") + seq
    number = body + id_number_check_char(body)
    assert check_id_number(number, TODAY) is None
    for i in range(18):
        for c in "0123456789X":
            if c != number[i] and (i == 17 or c != "X"):
                assert check_id_number(number[:i] + c + number[i + 1:], TODAY) is not None


# -- unified social credit code --------------------------------------------------------------

def test_commonly_cited_credit_code_is_valid():
    # Worked by hand: values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4 with weights
    # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28 sum to 1640; 1640 mod 31 = 28; 31 - 28 = 3.
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert check_credit_code("91350100M000100Y43") is None


@pytest.mark.parametrize("code, message", [
    ("91350100M000100Y44", "校验位不正确"),
    ("91350100M000100Y4", "应为18位统一社会信用代码"),
    ("91350100m000100Y43", "只能包含数字和大写字母(不含 I、O、Z、S、V)"),
    ("91350100M000100I43", "只能包含数字和大写字母(不含 I、O、Z、S、V)"),
    ("9135A100M000100Y43", "第3至8位行政区划码应为数字"),
])
def test_invalid_credit_codes_say_what_is_wrong(code, message):
    assert check_credit_code(code) == message


def test_a_check_value_of_thirty_one_is_the_digit_zero():
    # 31 - (sum mod 31) is 31 when the weighted sum is a multiple of 31: the check is then "0".
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    head = "9132028100000000"
    partial = sum(chars.index(c) * w for c, w in zip(head, weights))
    last = next(c for c in chars if (partial + chars.index(c) * 28) % 31 == 0)
    assert credit_code_check_char(head + last) == "0"
    assert check_credit_code(head + last + "0") is None


_cc_char = st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY")


@given(st.sampled_from("159Y"), st.sampled_from("123"), st.from_regex(r"[0-9]{6}", fullmatch=True),
       st.lists(_cc_char, min_size=9, max_size=9))
def test_every_single_character_change_of_a_credit_code_is_caught(authority, category, region, org):
    body = authority + category + region + "".join(org)
    code = body + credit_code_check_char(body)
    assert check_credit_code(code) is None
    for i in range(18):
        for c in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if c != code[i]:
                assert check_credit_code(code[:i] + c + code[i + 1:]) is not None


# -- phone ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone", [
    "13812345678", "19912345678", "0510-86860211", "051086860211", "010-62345678",
    "0510-8686021", "0510-86860211-123",
])
def test_valid_phones(phone):
    assert check_phone(phone) is None


@pytest.mark.parametrize("phone", [
    "12345", "12812345678", "1381234567", "138123456789", "0510_86860211", "86860211",
    "0510-06860211", "13812345678\n", "１３８１２３４５６７８", "0510-86860211-1234567", "",
])
def test_invalid_phones(phone):
    assert check_phone(phone) == "应为11位手机号码或带区号的固定电话(如 0510-86860211)"

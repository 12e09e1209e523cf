"""The strict loader: YAML 1.1 traps are decided on purpose, and every value keeps its place."""

import pytest

from bianmin.packs.loader import LoadError, Map, load_text


def test_plain_scalars_follow_yaml_1_2_core_not_1_1():
    doc = load_text("a: 1:30\nb: 2026-01-04\nc: 010.5\nd: true\ne: ~\nf: 3\ng: 2.5\nh: '010'\n", "t.yaml")
    assert doc == {"a": "1:30", "b": "2026-01-04", "c": 10.5, "d": True, "e": None, "f": 3, "g": 2.5, "h": "010"}


@pytest.mark.parametrize("word", ["yes", "No", "ON", "off", "y", "N"])
def test_yaml11_booleans_are_errors(word):
    with pytest.raises(LoadError) as raised:
        load_text(f"flag: {word}\n", "t.yaml")
    assert raised.value.rule == "yaml-ambiguous-bool"
    assert (raised.value.mark.line, raised.value.mark.column) == (1, 7)


def test_quoted_words_are_strings():
    assert load_text("a: 'no'\nb: \"on\"\n", "t.yaml") == {"a": "no", "b": "on"}


def test_duplicate_keys_in_flow_and_block_style():
    with pytest.raises(LoadError) as raised:
        load_text("a:\n  - {x: 1, x: 2}\n", "t.yaml")
    assert raised.value.rule == "duplicate-key" and raised.value.mark.line == 2


def test_tags_and_merge_keys_are_refused():
    with pytest.raises(LoadError) as raised:
        load_text("a: !!python/object x\n", "t.yaml")
    assert raised.value.rule == "yaml-tag"
    with pytest.raises(LoadError) as raised:
        load_text("base: &b {x: 1}\nchild:\n  <<: *b\n", "t.yaml")
    assert raised.value.rule == "yaml-merge-key"


def test_marks_are_one_based_and_per_key():
    doc = load_text("top:\n  inner: [a, b]\n", "f.yaml")
    assert isinstance(doc, Map)
    inner = doc["top"]
    assert str(inner.key_marks["inner"]) == "f.yaml:2:3"
    assert str(inner["inner"].item_marks[1]) == "f.yaml:2:14"


def test_bad_bytes_are_a_clean_error(tmp_path):
    from bianmin.packs.loader import load_file

    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(LoadError) as raised:
        load_file(path)
    assert raised.value.rule in ("file-encoding", "yaml-syntax")


def test_long_unquoted_numbers_are_refused_and_quoted_ones_kept():
    assert load_text("id: 110105194912310021\n", "t.yaml") == {"id": 110105194912310021}  # 18 digits
    with pytest.raises(LoadError) as raised:
        load_text("code: 3202810000000000000001\n", "t.yaml")
    assert raised.value.rule == "yaml-long-number" and str(raised.value.mark) == "t.yaml:1:7"
    assert load_text("code: '3202810000000000000001'\n", "t.yaml") == {"code": "3202810000000000000001"}
    with pytest.raises(LoadError):  # beyond Python's own digit limit: a clean error, not ValueError
        load_text("n: " + "9" * 5000 + "\n", "t.yaml")


@pytest.mark.parametrize("text", ["a: " + "[" * 70 + "]" * 70 + "\n",  # past our limit
                                  "a: " + "[" * 2000 + "]" * 2000 + "\n",  # past PyYAML's recursion
                                  "a: " + "{b: " * 600 + "1" + "}" * 600 + "\n"])
def test_deep_nesting_is_a_clean_error(text):
    with pytest.raises(LoadError) as raised:
        load_text(text, "t.yaml")
    assert raised.value.rule == "yaml-too-deep"


def test_ordinary_nesting_loads():
    assert load_text("a: " + "[" * 30 + "1" + "]" * 30 + "\n", "t.yaml")["a"]

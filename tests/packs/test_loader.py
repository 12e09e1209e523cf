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

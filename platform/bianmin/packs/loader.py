"""Strict YAML loading that remembers where every value came from.

PyYAML composes the node tree (with the C parser when available); we build the Python values
ourselves so that we decide every scalar's type and keep each value's position:

* a duplicate key is an error (PyYAML silently keeps the last one);
* only ``true``/``false`` are booleans; the YAML 1.1 words ``yes``/``no``/``on``/``off``/``y``/``n``
  are errors asking for ``true``/``false`` or quotes, so ``no`` never turns into ``False`` by accident;
* integers are plain decimal; a leading zero (``010``, YAML 1.1 octal) is an error;
* anything else plain is a string: ``1:30`` stays ``"1:30"`` (YAML 1.1 reads 90), ``2026-01-04``
  stays ``"2026-01-04"`` (dates are parsed by the engine, which knows which keys hold dates);
* tags, merge keys (``<<``) and non-string keys are errors.

Mappings and sequences come back as :class:`Map` and :class:`Seq`, which behave as ``dict`` and
``list`` and carry the :class:`Mark` of the node and of each key/element.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import yaml

try:  # the C parser is several times faster; fall back when libyaml is missing
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


class _Loader(_Parser, yaml.resolver.BaseResolver):
    """Composes nodes without YAML 1.1 implicit typing: `scalar` decides types itself, so the
    resolver's regex matching on every scalar would be wasted work."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.resolver.BaseResolver.__init__(self)


class Mark(NamedTuple):
    """A position in a pack file; line and column are 1-based, as editors show them.

    A named tuple rather than a frozen dataclass: a pack has tens of thousands of marks and
    tuples are several times cheaper to create.
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Map(dict):
    """A mapping that knows where it and each of its keys and values were written."""

    __slots__ = ("mark", "key_marks", "value_marks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}


class Seq(list):
    """A sequence that knows where it and each of its elements were written."""

    __slots__ = ("mark", "item_marks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Mark] = []


class LoadError(Exception):
    """A file that is not acceptable YAML; carries the position and a rule id."""

    def __init__(self, mark: Mark, rule: str, message: str) -> None:
        super().__init__(f"{mark}: {rule}: {message}")
        self.mark = mark
        self.rule = rule
        self.message = message


_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_OCTAL_LIKE = re.compile(r"[-+]?0[0-9]+\Z")
# Far beyond any real pack (about 10 levels) and any real number, but well inside what Python
# can build: deeper nesting would exhaust the recursion limit, longer integers its digit limit.
MAX_DEPTH = 64
MAX_DIGITS = 18
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_YAML11_BOOL = frozenset(
    w for b in ("yes", "no", "on", "off", "y", "n") for w in (b, b.capitalize(), b.upper())
)
_IMPLICIT_TAGS = frozenset(
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge", "value")
)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.depth = 0

    def mark(self, node: yaml.Node) -> Mark:
        m = node.start_mark
        return Mark(self.file, m.line + 1, m.column + 1)

    def build(self, node: yaml.Node) -> Any:
        if node.tag not in _IMPLICIT_TAGS:
            raise LoadError(
                self.mark(node), "yaml-tag",
                f"YAML tags such as {node.tag!r} are not used in packs; remove the tag",
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if self.depth >= MAX_DEPTH:
            raise LoadError(self.mark(node), "yaml-too-deep",
                            f"lists and mappings are nested more than {MAX_DEPTH} levels deep here")
        self.depth += 1
        try:
            if isinstance(node, yaml.SequenceNode):
                seq = Seq(self.mark(node))
                for child in node.value:
                    seq.append(self.build(child))
                    seq.item_marks.append(self.mark(child))
                return seq
            return self.mapping(node)
        finally:
            self.depth -= 1

    def mapping(self, node: yaml.MappingNode) -> Map:
        result = Map(self.mark(node))
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or (key_node.value == "<<" and not key_node.style):
                raise LoadError(
                    self.mark(key_node), "yaml-merge-key",
                    "merge keys (<<) are not supported; use `extends` between packs instead",
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise LoadError(self.mark(key_node), "yaml-key", "a key must be a plain word")
            key = key_node.value
            if key in result:
                first = result.key_marks[key]
                raise LoadError(
                    self.mark(key_node), "duplicate-key",
                    f"key {key!r} appears twice in the same mapping (first at line {first.line}); "
                    "YAML would silently keep only the last one",
                )
            result[key] = self.build(value_node)
            result.key_marks[key] = self.mark(key_node)
            result.value_marks[key] = self.mark(value_node)
        return result

    def scalar(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        if node.style:  # quoted or block scalar: always a string (plain is None, or '' from libyaml)
            return text
        if text in _NULL:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if text in _YAML11_BOOL:
            raise LoadError(
                self.mark(node), "yaml-ambiguous-bool",
                f"{text!r} is a boolean in YAML 1.1 but a string in YAML 1.2; "
                f"write true/false, or quote it ('{text}') if you mean the word",
            )
        if _INT.match(text):
            if len(text.lstrip("+-")) > MAX_DIGITS:
                raise LoadError(
                    self.mark(node), "yaml-long-number",
                    f"a number of {len(text.lstrip('+-'))} digits; a code or an ID number is text: quote it",
                )
            return int(text)
        if _OCTAL_LIKE.match(text):
            raise LoadError(
                self.mark(node), "yaml-leading-zero",
                f"{text!r} has a leading zero, which YAML 1.1 reads as an octal number; "
                f"quote it ('{text}') if it is a code, or drop the zero",
            )
        if _FLOAT.match(text):
            return float(text)
        return text


def load_text(text: str, file: str) -> Any:
    """Parse one YAML document; raise :class:`LoadError` with its position on any problem."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadError(Mark(file, line, column), "yaml-syntax", problem) from None
    except yaml.YAMLError as exc:  # reader errors (bad bytes) carry no problem_mark
        raise LoadError(Mark(file, 1, 1), "yaml-syntax", str(exc)) from None
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise LoadError(Mark(file, 1, 1), "yaml-too-deep",
                        f"lists and mappings are nested more than {MAX_DEPTH} levels deep") from None
    if node is None:
        return None
    return _Builder(file).build(node)


def load_file(path: Path, display: str | None = None) -> Any:
    """Load a file, naming it ``display`` (default: the path as given) in marks."""
    return load_bytes(path.read_bytes(), display or str(path))


def load_bytes(data: bytes, name: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(Mark(name, 1, 1), "file-encoding", f"not UTF-8 text ({exc.reason})") from None
    return load_text(text, name)


def iter_marks(value: Any) -> Iterable[Mark]:
    """Every mark inside a loaded value (used by tests and the diff)."""
    if isinstance(value, Map):
        yield value.mark
        for key, child in value.items():
            yield value.key_marks[key]
            yield from iter_marks(child)
    elif isinstance(value, Seq):
        yield value.mark
        for child in value:
            yield from iter_marks(child)

"""Form definitions as frozen values: nothing downstream of the loader sees a raw dict.

The YAML format is described in docs/forms.md; the loader is `definitions.load_form`.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Iterator, Literal, Union

from markupsafe import escape

from ..packs.loader import Mark

FieldType = Literal[
    "text", "long_text", "integer", "decimal", "date", "datetime", "enum", "multi_select",
    "boolean", "phone", "id_number", "credit_code", "address", "group", "materials",
]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]

# Where `options_from` may take a field's options: a list of `{id, name}` records of the
# compiled pack, or the materials of the case's item (see choices.py).
OPTION_SOURCES: tuple[str, ...] = (
    "pause_reasons", "complaint_categories", "rating_levels", "windows", "departments",
    "negative_report_grounds", "unresolved_matter_scope", "accountability_effects",
    "item_materials",
)

# A bound (`min`/`max`): a number, an ISO date or datetime string, or the word "today".
Bound = Union[int, float, str]


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of an enum or multi_select field: the stored value and its Chinese label."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a form; a `group` holds its own `fields`, repeated per row."""

    id: str
    label: str
    type: str
    required: bool = False
    required_when: str | None = None
    when: str | None = None
    help: str | None = None
    placeholder: str | None = None
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    min: Bound | None = None
    max: Bound | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    default: Any = None
    fields: tuple[Field, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    source: str | None = None
    mark: Mark | None = dc_field(default=None, compare=False, repr=False)

    @property
    def conditional(self) -> bool:
        """True when whether the field shows or is required depends on the data."""
        return self.when is not None or self.required_when is not None

    def subfield(self, id: str) -> Field | None:
        return next((f for f in self.fields if f.id == id), None)


@dataclass(frozen=True, slots=True)
class Form:
    """A form: what a transition (or the opening of a record) asks the user to fill in."""

    id: str
    title: str
    fields: tuple[Field, ...]
    description: str | None = None
    source: str | None = None
    path: str | None = dc_field(default=None, compare=False)
    # Validators built from this form, keyed by what they depend on (jsonschema.py). A form is
    # frozen, so a validator built once stays right for the form's whole life.
    _cache: dict[Any, Any] = dc_field(default_factory=dict, compare=False, repr=False)

    def field(self, id: str) -> Field | None:
        return next((f for f in self.fields if f.id == id), None)

    def walk(self) -> Iterator[tuple[Field | None, Field]]:
        """Every field with its group (None at the top level), in the order written."""
        for f in self.fields:
            yield None, f
            for sub in f.fields:
                yield f, sub


class Choice(str):
    """A chosen option as documents see it: equal to its value, printed (HTML) as its label.

    ``data.reason == "hearing"`` holds, ``{{ data.reason }}`` prints 听证 in an autoescaped
    template, and ``{{ data.reason.value }}`` prints ``hearing``.
    """

    __slots__ = ("label",)
    label: str

    def __new__(cls, value: str, label: str) -> Choice:
        self = super().__new__(cls, value)
        self.label = label
        return self

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __html__(self) -> str:
        return str(escape(self.label))

    def __repr__(self) -> str:
        return f"Choice({self.value!r}, {self.label!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Choice, (self.value, self.label))

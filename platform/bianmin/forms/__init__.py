"""Forms: what a person fills in when a record opens or a transition is taken.

Definitions are YAML files (`forms/*.yaml`, `policies/<pack>/forms/*.yaml`; docs/forms.md),
loaded into frozen :class:`Form` values, turned into a Draft 2020-12 JSON Schema for
submissions, and checked with every error named in Chinese.
"""

from .choices import MATERIAL_FORMS, OptionsUnavailable, choices_from_pack, labelled, options_for
from .definitions import FormError, Problem, load_form, load_forms  # Problem: packs.problems
from .jsonschema import to_json_schema
from .model import FIELD_TYPES, OPTION_SOURCES, Choice, Field, Form, Option
from .validators import (
    FieldError, check_credit_code, check_id_number, check_phone, clean, validate,
)

__all__ = [
    "FIELD_TYPES", "MATERIAL_FORMS", "OPTION_SOURCES", "Choice", "Field", "FieldError", "Form",
    "FormError", "Option", "OptionsUnavailable", "Problem", "check_credit_code",
    "check_id_number", "check_phone", "choices_from_pack", "clean", "labelled", "load_form",
    "load_forms", "options_for", "to_json_schema", "validate",
]

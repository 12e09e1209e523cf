"""What guards see of a case: the facts derived from its materials and its item's catalogue."""

from __future__ import annotations

from bianmin.workflow import record
from workflow_helpers import materials


def test_a_case_with_every_material_is_complete(packs):
    pack = packs["taihe"]
    item = pack.item("food_business_licence")
    facts = record.view({"materials": materials(pack, item.id)}, "received", item)
    assert facts["state"] == "received"
    assert facts["materials_complete"] is True
    assert facts["missing_materials"] == [] and facts["only_non_core_missing"] is False


def test_missing_materials_follow_the_catalogue_and_flag_core_ones(packs):
    pack = packs["taihe"]
    item = pack.item("food_business_licence")
    subject = {"materials": materials(pack, item.id, missing=("health_certificates", "safety_rules"))}
    facts = record.view(subject, "received", item)
    assert facts["missing_materials"] == ["safety_rules", "health_certificates"]  # catalogue order
    assert facts["missing_core_materials"] == []
    assert facts["only_non_core_missing"] is True
    subject = {"materials": materials(pack, item.id, missing=("application", "safety_rules"))}
    facts = record.view(subject, "received", item)
    assert facts["missing_core_materials"] == ["application"]
    assert facts["only_non_core_missing"] is False and facts["materials_complete"] is False


def test_a_material_not_listed_counts_as_missing(packs):
    pack = packs["taihe"]
    item = pack.item("food_business_licence")
    facts = record.view({"materials": [{"id": "application", "received": True}]}, "received", item)
    assert len(facts["missing_materials"]) == len(item.materials) - 1


def test_a_record_without_item_needs_only_what_it_lists():
    assert record.view({}, "registered", None)["materials_complete"] is True
    facts = record.view({"materials": [{"id": "a", "received": True}, {"id": "b", "received": False}]}, "x", None)
    assert facts["missing_materials"] == ["b"]


def test_subject_fields_are_kept_beside_the_derived_facts(packs):
    facts = record.view({"number": "TH-1", "applicant": "张三"}, "received", None)
    assert facts["number"] == "TH-1" and facts["applicant"] == "张三"

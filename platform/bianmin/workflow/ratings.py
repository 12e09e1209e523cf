"""Satisfaction ratings (好差评, 国办发〔2019〕51号): five levels, and a bad one is rectified.

No workflow transition rates a case (a rating may come on the spot, online or by phone, in any
state), so :func:`rate` is a function of its own. It checks the level against the pack's
``ratings.levels`` and the data against the shared `rating` form, and returns the effects:
``record_rating`` always, and for a bad level (``bad: true``: 不满意, 非常不满意)
``open_workflow rectification`` with the rectification period of ``ratings.rectification``
as the new record's ``limit`` (the rectification clock reads ``data.limit``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..forms import FieldError
from . import submission
from .instance import Effect, Instance, TransitionError, thaw

RECTIFICATION = "rectification"


def rate(instance: Instance, level: str, *, data: Mapping[str, Any] | None = None,
         now: dt.datetime) -> tuple[Effect, ...]:
    """The effects of rating the record ``instance`` at ``level`` (a level id of the pack)."""
    pack = instance.pack
    levels = {lv.id: lv for lv in pack.ratings.levels}
    chosen = levels.get(level)
    if chosen is None:
        listed = "、".join(f"{lv.name}({lv.id})" for lv in pack.ratings.levels)
        message = f"评价等级“{level}”不存在, 可选: {listed}"
        raise TransitionError("invalid_form", message, [FieldError("$.level", "评价等级", message, "enum")])
    answers = {"case_number": instance.subject.get("number", ""), **thaw(data or {}), "level": level}
    forms, _ = submission.forms_of(pack)
    if "rating" in forms:
        form, errors = submission.check(pack, "rating", answers, instance.subject, instance.item, now)
        if errors:
            raise TransitionError("invalid_form", f"“{form.title}”填写有误: " + "; ".join(map(str, errors)), errors)
    effects = [Effect("record_rating", {
        "level": chosen.id, "name": chosen.name, "score": chosen.score, "bad": chosen.bad,
        "channel": answers.get("channel", ""), "comment": answers.get("comment", ""),
        "case_number": answers["case_number"], "at": now.isoformat()})]
    if chosen.bad and any(w.id == RECTIFICATION for w in pack.workflows):
        rule = pack.ratings.rectification
        opening: dict[str, Any] = {
            "parent": {"workflow": instance.workflow_id, "item": instance.item_id,
                       "seq": instance.events[-1].seq, "transition": "rate"},
            "case_number": answers["case_number"], "rating": chosen.id, "rating_name": chosen.name,
            "comment": answers.get("comment", "")}
        if rule is not None:
            opening["limit"] = {"value": rule.within.value, "unit": rule.within.unit}
            opening["callback"] = rule.callback
        effects.append(Effect("open_workflow", {"workflow": RECTIFICATION, "data": opening}))
    return tuple(effects)

"""What pages and the API both need from the store: a case as shown, a rating stored.

One function per need, each reading through the store's public functions, so the HTML pages and
the JSON API can never disagree about a case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..calendar import Calendar
from ..packs.model import Item, Pack
from ..store import db, load, records
from ..store.models import Rating, Record
from ..timelimits import ClockState
from ..workflow import Instance, TransitionError, clock_states, rate, thaw
from .context import Web
from .svg import timeline_svg

RATEABLE = ("completed", "delivered")


@dataclass
class ClockView:
    id: str
    name: str
    state: ClockState
    svg: str


@dataclass
class CaseView:
    record: Record
    instance: Instance
    pack: Pack
    item: Item | None
    state_name: str
    clocks: list[ClockView]

    @property
    def events(self) -> tuple[Any, ...]:
        return self.instance.events

    @property
    def subject(self) -> dict[str, Any]:
        return thaw(self.instance.subject)


async def case_view(web: Web, jurisdiction: str, number: str, *, public: bool = False,
                    now: dt.datetime | None = None) -> CaseView:
    record, instance = await load(jurisdiction, number, registry=web.registry)
    return view_of(web, record, instance, explain=not public, now=now)


def view_of(web: Web, record: Record, instance: Instance, *, explain: bool = True,
            now: dt.datetime | None = None) -> CaseView:
    """A record as shown, from what the store just returned (no second read)."""
    jurisdiction = record.jurisdiction_id
    pack = instance.pack
    now = now or dt.datetime.now().replace(microsecond=0)
    if instance.events:  # a clock never looks at a moment before the record's last event
        now = max(now, instance.events[-1].at)
    calendar = Calendar.build(web.registry.active(jurisdiction, now.date()).calendar)
    states = clock_states(instance, now, calendar, explain=explain)
    names = {c.id: c.name for c in pack.clocks}
    clocks = [ClockView(cid, names.get(cid, cid), st, timeline_svg(st) if explain else "")
              for cid, st in states.items()]
    state_name = instance.workflow.state(instance.state).name
    return CaseView(record, instance, pack, instance.item, state_name, clocks)


async def rate_case(web: Web, jurisdiction: str, number: str, level: str, comment: str,
                    channel: str) -> str | None:
    """Store a rating of a completed case (once); the error message, or None when stored."""
    record, instance = await load(jurisdiction, number, registry=web.registry)
    if instance.state not in RATEABLE:
        return "办件尚未办结, 暂不能评价"
    if await Rating.exists(record_id=record.id):
        return "该办件已经评价过"
    now = dt.datetime.now().replace(microsecond=0)
    try:
        effects = rate(instance, level, data={"comment": comment, "channel": channel} if comment else
                       {"channel": channel}, now=now)
    except TransitionError as exc:
        return exc.message
    async with db.transaction() as tx:
        ctx = records.Context(tx, instance.pack, record, instance, records.SYSTEM, now)
        rectification = None
        for effect in effects:
            if effect.action == "open_workflow":
                rectification = await records.open_child(ctx, effect)
        for effect in effects:
            if effect.action == "record_rating":
                args = thaw(effect.args)
                await Rating.create(using_db=tx, record_id=record.id, level=args["level"], score=args["score"],
                                    bad=args["bad"], channel=args.get("channel") or channel,
                                    comment=args.get("comment", ""), rated_at=now, rectification=rectification)
    return None

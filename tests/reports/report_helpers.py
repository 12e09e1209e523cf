"""The data the report tests read: one jurisdiction's month, made through the store."""

from __future__ import annotations

import datetime as dt

from bianmin.scoring import recording
from bianmin.store import service
from bianmin.store.models import Rating, Record
from scoring_helpers import case, people

MARCH = dt.datetime(2026, 3, 2, 9, 0)  # promised limit of the item: 03-09


async def seed(registry, cases: int = 3):
    """jiangyin, March 2026: ``cases`` cases (one completed late, one left open), two inquiries (one
    with a receipt), a complaint answered, two ratings (one bad)."""
    who = await people(registry, "jiangyin", [("j1", "钱七", "clerk", "market_window"),
                                              ("jc", "周投诉", "complaint_officer", ""),
                                              ("js", "孙督查", "supervisor", "")], MARCH)
    clerk = who["j1"]
    numbers = [await case(registry, "jiangyin", clerk, MARCH, MARCH + dt.timedelta(days=2))]
    numbers.append(await case(registry, "jiangyin", clerk, MARCH, dt.datetime(2026, 3, 12, 10)))  # late
    for _ in range(cases - 2):
        numbers.append(await case(registry, "jiangyin", clerk, MARCH, None))
    inquiry = {"received_at": "2026-03-03T10:00", "visitor_name": "孙八", "visitor_phone": "13912345678",
               "matter_kind": "consult", "matter": "咨询食品经营许可", "officer": "钱七", "visitor_signed": True}
    for _ in range(2):
        opened = await service.open_record("jiangyin", "inquiry", inquiry, clerk, inquiry, MARCH + dt.timedelta(days=1),
                                           registry=registry)
    await service.transition("jiangyin", opened.record.number, "issue_receipt", clerk,
                             {"officer_phone": "13812345678", "limit": 3, "reason": "需要研究"},
                             MARCH + dt.timedelta(days=1, hours=1), registry=registry)
    complaint = {"category": "staff_conduct", "matter": "窗口人员态度生硬", "complainant_name": "吴九",
                 "complainant_phone": "13700001111", "channel": "in_person"}
    made = await service.open_record("jiangyin", "complaint", complaint, who["jc"], complaint,
                                     MARCH + dt.timedelta(days=3), registry=registry)
    await service.transition("jiangyin", made.record.number, "reply", who["jc"],
                             {"method": "written", "reply": "已批评教育"}, MARCH + dt.timedelta(days=4),
                             registry=registry)
    for number, level, score, bad in ((numbers[0], "very_satisfied", 5, False), (numbers[1], "dissatisfied", 2, True)):
        record = await Record.get(number=number)
        await Rating.create(record_id=record.id, level=level, score=score, bad=bad, channel="on_site",
                            rated_at=MARCH + dt.timedelta(days=12))
    await recording.propose("jiangyin", dt.datetime(2026, 3, 13, 9), registry=registry)
    return who, numbers

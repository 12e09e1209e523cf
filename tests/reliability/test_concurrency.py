"""Many clerks at once, over HTTP, against real server processes sharing one database.

PostgreSQL runs two worker processes (the city deployment); SQLite one (the county one). Each test
shares a server with other tests, so numbering is checked as "gap-free from 1 to the count".
"""

from __future__ import annotations

import threading

import reliability_harness as rh

INTAKES = 50
RIVALS = 20


def test_parallel_intakes_get_unique_gap_free_numbers(shared, figures):
    j = "jiangyin"
    server, db, token = shared.server, shared.db, shared.tokens[j]
    _pack, item = rh.promised_item(j)
    start = threading.Barrier(INTAKES, timeout=30)

    def intake(i: int) -> rh.Reply:
        start.wait()
        return server.api("POST", f"/api/v1/{j}/cases", token, rh.intake_body(item, f"申请人{i}"), key=f"intake-{i}")

    replies = rh.run_bounded([lambda i=i: intake(i) for i in range(INTAKES)], threads=INTAKES)
    assert [r.status for r in replies] == [201] * INTAKES, [r.body[:200] for r in replies if r.status != 201]
    numbers = [r.json()["number"] for r in replies]
    assert len(set(numbers)) == INTAKES, "two intakes were given the same number"
    # Gap-free: the jurisdiction's numbers are 1..N, these 50 a block of them, and each
    # acknowledged key holds the number it was told.
    sequence = rh.number_sequence(db, j)
    assert sequence == list(range(1, len(sequence) + 1))
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(serials[0], serials[0] + INTAKES))
    stored = {r["idempotency_key"]: r["number"] for r in db.query(
        f"SELECT number, idempotency_key FROM records WHERE kind = 'case' AND jurisdiction_id = '{j}'")}
    acknowledged = {f"intake-{i}": n for i, n in enumerate(numbers)}
    lost = {k: n for k, n in acknowledged.items() if stored.get(k) != n}
    figures.lost += len(lost)
    assert not lost, f"acknowledged but not stored as answered: {lost}"
    assert rh.half_applied(db) == []
    figures.held += INTAKES


def test_parallel_retries_of_one_intake_make_one_case(shared, figures):
    """An integrator's retries of one request (same Idempotency-Key) racing each other."""
    j = "taihe"  # a key used once per jurisdiction and database
    server, token = shared.server, shared.tokens[j]
    _pack, item = rh.promised_item(j)
    start = threading.Barrier(RIVALS, timeout=30)

    def retry() -> rh.Reply:
        start.wait()
        return server.api("POST", f"/api/v1/{j}/cases", token, rh.intake_body(item), key="one-request")

    replies = rh.run_bounded([retry] * RIVALS, threads=RIVALS)
    assert sorted(r.status for r in replies) == [200] * (RIVALS - 1) + [201], [r.body[:200] for r in replies]
    assert len({r.json()["number"] for r in replies}) == 1
    stored = shared.db.query(f"SELECT number FROM records WHERE jurisdiction_id = '{j}' "
                             "AND idempotency_key = 'one-request'")
    assert [r["number"] for r in stored] == [replies[0].json()["number"]]
    sequence = rh.number_sequence(shared.db, j)
    assert sequence == list(range(1, len(sequence) + 1))
    figures.held += 1


def _rivals(shared, j: str, body: dict) -> tuple[list[rh.Reply], str]:
    server, token = shared.server, shared.tokens[j]
    _pack, item = rh.promised_item(j)
    created = server.api("POST", f"/api/v1/{j}/cases", token, rh.intake_body(item))
    assert created.status == 201, created.body
    number = created.json()["number"]
    start = threading.Barrier(RIVALS, timeout=30)

    def accept() -> rh.Reply:
        start.wait()
        return server.api("POST", f"/api/v1/{j}/cases/{number}/transitions/accept", token, body)

    return rh.run_bounded([accept] * RIVALS, threads=RIVALS), number


def test_conflicting_transitions_exactly_one_wins(shared, figures):
    replies, number = _rivals(shared, "taishan", {"expected_version": 1})
    won = [r for r in replies if r.status == 200]
    lost = [r for r in replies if r.status != 200]
    assert len(won) == 1, [(r.status, r.body[:120]) for r in replies]
    assert won[0].json()["version"] == 2 and won[0].json()["state"] == "accepted"
    # The documented conflict (docs/web.md): 409 with the error shape, a stale version or the
    # state having moved on, whichever the loser saw first.
    assert {r.status for r in lost} == {409}, [(r.status, r.body[:120]) for r in lost]
    assert {r.json()["error"]["code"] for r in lost} <= {"conflict", "wrong_state"}
    events = shared.db.query("SELECT e.transition FROM events e JOIN records r ON r.id = e.record_id "
                             f"WHERE r.jurisdiction_id = 'taishan' AND r.number = '{number}' ORDER BY e.seq")
    assert [e["transition"] for e in events][1:] == ["accept"], "the transition was applied more than once"
    assert rh.half_applied(shared.db) == []
    figures.held += 2


def test_conflicting_transitions_without_a_version_exactly_one_wins(shared, figures):
    """Without expected_version the optimistic lock still lets only one through."""
    replies, number = _rivals(shared, "xupu", {})
    assert sorted(r.status for r in replies) == [200] + [409] * (RIVALS - 1), \
        [(r.status, r.body[:120]) for r in replies]
    version = shared.db.query("SELECT version FROM records WHERE jurisdiction_id = 'xupu' "
                              f"AND number = '{number}'")[0]["version"]
    assert version == 2
    assert rh.half_applied(shared.db) == []
    figures.held += 2

"""Faults during a load: a worker killed with SIGKILL, the database cutting every connection, a
notification plugin that fails or hangs. Whatever happens, what the server acknowledged is
stored exactly once, and no transition is stored in part."""

from __future__ import annotations

import threading
import time

import reliability_harness as rh

CASES = 60  # about 180 requests per load, plus retries
KILLS = (0.3, 0.65)  # when the workers are killed, as a share of the load's requests


def _setup(db: rh.Database, server: rh.Server) -> tuple[str, object]:
    ids = rh.make_staff(db, [("rel-clerk", [("xupu", "clerk")])])
    return rh.token(ids["rel-clerk"]), rh.promised_item()[1]


def _in_background(fn) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised by join_checked
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def _join(thread: threading.Thread, timeout: float = 120) -> None:
    thread.join(timeout)
    assert not thread.is_alive(), "the fault injector did not finish in time"
    if thread.errors:  # type: ignore[attr-defined]
        raise thread.errors[0]  # type: ignore[attr-defined]


def test_kill_9_of_a_worker_during_load(any_db, serve, figures):
    """PostgreSQL: two workers, one killed at a time (uvicorn starts a new one) while the other
    serves, then the whole server killed and started again. SQLite: its single process killed and
    started again, twice. Afterwards everything acknowledged must be there, once."""
    server = serve(any_db)
    token, item = _setup(any_db, server)
    load = rh.Load(server, token, item, "kill", cases=CASES)
    killed: list[int] = []

    def faults() -> None:
        for share in KILLS:
            load.wait_for(int(share * CASES * 3))
            if server.workers > 1:
                killed.append(server.kill_worker(len(killed)))
            else:
                server.kill()
                killed.append(0)
                server.start()

    injector = _in_background(faults)
    load.run()
    _join(injector)
    assert len(killed) == len(KILLS)
    assert load.unanswered > 0 or server.workers > 1, "the kills cut no request: the test proved nothing"
    # The workers' own crash must not turn into 5xx answers: a request was answered or cut.
    assert load.server_errors == []
    if server.workers > 1:  # SQLite's single process was already killed and started again, twice
        server.kill()
        server.start()
    lost = load.check_stored(any_db)
    assert lost == [], "\n".join(lost)
    assert rh.half_applied(any_db) == []
    # No number was used twice or skipped: an intake cut in half gave its number back.
    sequence = rh.number_sequence(any_db, "xupu")
    assert sequence == list(range(1, len(sequence) + 1)) and len(sequence) == len(load.intakes)
    for number in sorted(set(load.intakes.values()))[:20]:  # and the restarted server serves them
        assert server.api("GET", f"/api/v1/xupu/cases/{number}", token).status == 200
    assert len(load.intakes) >= CASES * 0.9, f"only {len(load.intakes)} of {CASES} intakes went through"


def test_database_cuts_every_connection_during_load(postgres, serve, figures):
    """A database restart as the app sees it: every connection of its database terminated, six
    times during the load (the PostgreSQL service itself is shared and stays up). The app must
    recover by itself: afterwards every request succeeds again."""
    server = serve(postgres)
    token, item = _setup(postgres, server)
    load = rh.Load(server, token, item, "cut", cases=CASES)
    cuts: list[int] = []

    def faults() -> None:
        load.wait_for(20)
        for _ in range(6):
            cuts.append(postgres.terminate_connections())
            figures.faults += 1
            time.sleep(0.3)

    injector = _in_background(faults)
    load.run()
    _join(injector)
    assert sum(cuts) > 0, "no connection was terminated: the test proved nothing"
    figures.notes.append(f"database cuts: {len(cuts)} rounds, {sum(cuts)} connections terminated, "
                         f"{len(load.server_errors)} 5xx answers during them{(', first: ' + load.server_errors[0]) if load.server_errors else ''}")
    # Recovery without anyone touching the server: ready again, and a fresh batch all succeeds.
    deadline = time.monotonic() + 30
    while not server.ready() and time.monotonic() < deadline:
        time.sleep(0.2)
    after = [server.api("POST", "/api/v1/xupu/cases", token, rh.intake_body(item), key=f"after-{i}")
             for i in range(20)]
    assert [r.status for r in after] == [201] * 20, [(r.status, r.body[:200]) for r in after if r.status != 201]
    figures.held += len(after)
    lost = load.check_stored(postgres)
    assert lost == [], "\n".join(lost)
    assert rh.half_applied(postgres) == []
    assert all(" 503 " in e and "unavailable" in e for e in load.server_errors), load.server_errors[:3]
    assert len(load.intakes) >= CASES * 0.9, f"only {len(load.intakes)} of {CASES} intakes went through"

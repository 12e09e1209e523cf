"""The reliability suite's fixtures and its closing figures.

Servers run as real processes (``bianmin serve --workers N``) on 127.0.0.1 against a fresh
database each; every load is bounded in count and time. At the end of the run the figures —
requests sent and held, faults injected, inputs tried, records lost — are printed
(``pytest_terminal_summary``); records lost must be 0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `import reliability_harness`

import reliability_harness as rh  # noqa: E402


@pytest.fixture
def figures() -> rh.Figures:
    return rh.FIGURES


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[rh.Database]:
    with rh.database("postgres", tmp_path) as db:
        yield db


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[rh.Database]:
    with rh.database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """serve(db, workers=2, env=None) → a started Server, stopped at the end of the test. SQLite
    runs with one worker: it is the single-process deployment (docs/deploy.md)."""
    started: list[rh.Server] = []

    def start(db: rh.Database, workers: int | None = None, env: dict[str, str] | None = None) -> rh.Server:
        count = workers if workers is not None else (2 if db.backend == "postgres" else 1)
        server = rh.Server(db, tmp_path / f"var{len(started)}", count, env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def shared_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], rh.Shared]]:
    """One server per backend for the tests that inject no fault, started on first use: each test
    works in its own jurisdiction, so numbering checks stay exact (a start costs seconds)."""
    made: dict[str, rh.Shared] = {}
    with ExitStack() as stack:
        def get(backend: str) -> rh.Shared:
            if backend not in made:
                db = stack.enter_context(rh.database(backend, tmp_path_factory.mktemp(backend)))
                server = rh.Server(db, tmp_path_factory.mktemp("var"), 2 if backend == "postgres" else 1)
                stack.callback(server.stop)
                server.start()
                ids = rh.make_staff(db, [(f"shared-{j}", [(j, "clerk")]) for j in rh.JURISDICTIONS])
                made[backend] = rh.Shared(server, db, {j: rh.token(ids[f"shared-{j}"]) for j in rh.JURISDICTIONS})
            return made[backend]

        yield get


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, shared_servers) -> rh.Shared:
    return shared_servers(request.param)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001 - pytest's hook
    f = rh.FIGURES
    if not (f.requests or f.inputs or f.faults):
        return  # the suite did not run (deselected)
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(f"requests sent to real servers: {f.requests}")
    terminalreporter.write_line(f"requests held (acknowledged writes found stored exactly once): {f.held}")
    terminalreporter.write_line(f"faults injected: {f.faults}")
    terminalreporter.write_line(f"inputs tried: {f.inputs}")
    terminalreporter.write_line(f"records lost: {f.lost}")
    for note in f.notes:
        terminalreporter.write_line(note)

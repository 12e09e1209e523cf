"""Security over a real server with two workers (or SQLite's one): sessions, CSRF, status-lookup
enumeration and the authorization matrix, where consecutive requests land on different processes.

The in-process tests (tests/web/test_csrf.py, test_status_lookup.py, test_authz_matrix.py) pin the
rules; these add what only shows across processes and real cookies.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import reliability_harness as rh

ROOT = Path(__file__).resolve().parents[2]


def _staff(shared, name: str, roles: list[tuple[str, str]]) -> str:
    rh.make_staff(shared.db, [(name, roles)])
    return name


# -- sessions -------------------------------------------------------------------------------------------

def test_a_session_set_before_sign_in_is_not_the_one_after(shared, figures):
    """Session fixation: whatever cookie the visitor had (planted by an attacker, say) before
    signing in gives no access afterwards, and its CSRF token is dead."""
    name = _staff(shared, f"fix-{shared.db.backend}", [("taishan", "clerk")])
    browser = rh.Browser(shared.server.port)
    before_token = browser.csrf()
    planted = browser.cookie
    assert planted, "the sign-in page set no session cookie"
    signed_in = browser.sign_in(name)
    assert signed_in.status == 303, signed_in.body[:300]
    assert browser.cookie and browser.cookie != planted
    assert browser.get("/staff/taishan/").status == 200
    # The planted cookie is still anonymous after the victim signed in.
    attacker = rh.Browser(shared.server.port)
    attacker.cookie = planted
    refused = attacker.get("/staff/taishan/")
    assert refused.status == 303 and "/staff/sign-in" in refused.headers["location"]
    # The token of the session before sign-in no longer passes CSRF in the signed-in session.
    stale = browser.post("/staff/sign-out", {"csrf_token": before_token})
    assert stale.status == 403
    assert browser.get("/staff/taishan/").status == 200
    figures.inputs += 3


def test_a_session_cookie_is_dead_after_sign_out(shared, figures):
    """A cookie copied while signed in (a shared counter PC, a proxy log) must not act for the
    clerk after they signed out."""
    name = _staff(shared, f"replay-{shared.db.backend}", [("taishan", "clerk")])
    browser = rh.Browser(shared.server.port)
    assert browser.sign_in(name).status == 303
    copied = browser.cookie
    token = browser.csrf("/staff/taishan/")
    assert browser.post("/staff/sign-out", {"csrf_token": token}).status == 303
    thief = rh.Browser(shared.server.port)
    thief.cookie = copied
    replay = thief.get("/staff/taishan/")
    figures.inputs += 1
    assert replay.status == 303 and "/staff/sign-in" in replay.headers["location"], \
        f"the signed-out session still opens the desk: {replay.status}"


def test_a_forged_or_tampered_session_cookie_is_anonymous(shared, figures):
    name = _staff(shared, f"forge-{shared.db.backend}", [("taishan", "clerk")])
    browser = rh.Browser(shared.server.port)
    assert browser.sign_in(name).status == 303
    good = browser.cookie
    assert good
    for forged in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), "eyJ1aWQiOiAxfQ==", "x" * 400):
        attacker = rh.Browser(shared.server.port)
        attacker.cookie = forged
        page = attacker.get("/staff/taishan/")
        assert page.status == 303 and "/staff/sign-in" in page.headers["location"], forged
        figures.inputs += 1


def test_sign_in_and_forms_work_across_workers(shared, figures):
    """The form is fetched from one worker and posted to another: the session and CSRF token of
    one process are valid on every process (a shared secret), ten times in a row."""
    name = _staff(shared, f"across-{shared.db.backend}", [("taishan", "clerk")])
    for _ in range(10):
        browser = rh.Browser(shared.server.port)
        assert browser.sign_in(name).status == 303
        token = browser.csrf("/staff/taishan/")
        assert browser.post("/staff/sign-out", {"csrf_token": token}).status == 303


def test_posts_without_the_sessions_token_are_refused(shared, figures):
    """CSRF, from outside: a cross-site form (no token, another session's token, a token in the
    wrong field) never reaches a handler, on any worker."""
    name = _staff(shared, f"csrf-{shared.db.backend}", [("taishan", "clerk")])
    victim, other = rh.Browser(shared.server.port), rh.Browser(shared.server.port)
    assert victim.sign_in(name).status == 303
    foreign = other.csrf()
    attempts = [{}, {"csrf_token": foreign}, {"csrf_token": ""}, {"csrf": victim.csrf("/staff/taishan/")}]
    for form in attempts * 2:
        assert victim.post("/staff/sign-out", form, {"Origin": "https://evil.example"}).status == 403
        figures.inputs += 1
    assert victim.get("/staff/taishan/").status == 200  # still signed in: no post went through


# -- status lookup ------------------------------------------------------------------------------------------

def _lookup(browser: rh.Browser, number: str, digits: str, headers: dict[str, str] | None = None) -> rh.Reply:
    token = browser.csrf("/taishan/status")
    return browser.post("/taishan/status", {"csrf_token": token, "number": number, "digits": digits}, headers)


def test_status_lookup_limits_hold_per_worker_and_ignore_forwarded_headers(shared_servers, figures):
    """Enumeration from one address: at most workers × 10 tries a minute in all (docs/web.md), even
    when each request claims another client address in X-Forwarded-For / X-Real-IP."""
    from bianmin.web import ratelimit

    shared = shared_servers("postgres")
    workers = shared.server.workers
    browser = rh.Browser(shared.server.port)
    codes = []
    for i in range(workers * ratelimit.LOOKUP_PER_IP + 10):
        spoof = {"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}", "X-Real-IP": f"10.1.0.{i % 250}"}
        codes.append(_lookup(browser, f"TS-2026-{900000 + i:06d}", "1234", spoof).status)
        figures.inputs += 1
    assert set(codes) <= {200, 429}
    # Each worker counts its own share, so which tries are refused depends on where they landed;
    # how many got through does not.
    assert codes.count(200) <= workers * ratelimit.LOOKUP_PER_IP, codes
    assert codes.count(429) >= 10


def test_status_lookup_number_variants_share_one_limit(shared, figures):
    """Spelling the same case number differently does not buy more guesses at its digits."""
    from bianmin.web import ratelimit

    server, token = shared.server, shared.tokens["taishan"]
    _pack, item = rh.promised_item("taishan")
    number = server.api("POST", "/api/v1/taishan/cases", token, rh.intake_body(item)).json()["number"]
    variants = [number, number.lower(), f"  {number} ", number.title(), f"\t{number.lower()}\n"]
    codes = []
    for i in range(ratelimit.LOOKUP_PER_CASE * server.workers + 4):
        browser = rh.Browser(server.port)  # a fresh visitor each time: only the number is counted
        codes.append(_lookup(browser, variants[i % len(variants)], f"{i:04d}",
                             {"X-Forwarded-For": f"10.2.0.{i}"}).status)
        figures.inputs += 1
    # Per worker: which tries are refused depends on where they landed, how many pass does not.
    assert codes.count(200) <= ratelimit.LOOKUP_PER_CASE * server.workers, codes
    assert codes.count(429) >= 4


# -- authorization matrix -------------------------------------------------------------------------------

def _matrix_module():
    spec = importlib.util.spec_from_file_location("_bianmin_authz_matrix", ROOT / "tests" / "web" / "test_authz_matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_authorization_matrix_over_the_api_of_a_real_server(shared_servers, figures):
    """The matrix of tests/web/test_authz_matrix.py for every API route, with tokens sent to a
    two-worker server: each role of xupu and of jiangyin, against a real xupu case."""
    from bianmin.web import create_app

    matrix = _matrix_module()
    shared = shared_servers("postgres")
    app = create_app(shared.db.url, secret=rh.SECRET, var=shared.server.var / "matrix")
    pack = app.state.web.pack(matrix.OWN)
    routes = [r for r in matrix._routes(app) if r.endpoint.api]
    _p, item = rh.promised_item(matrix.OWN)
    created = shared.server.api("POST", f"/api/v1/{matrix.OWN}/cases", shared.tokens[matrix.OWN],
                                rh.intake_body(item))
    number = created.json()["number"]
    failures, checked = [], 0
    for role in (None, *matrix.ROLES):
        for own in (True, False):
            if role is None and not own:
                continue
            headers = {}
            if role is not None:
                name = f"m-{role}-{'own' if own else 'other'}"
                ids = rh.make_staff(shared.db, [(name, [(matrix.OWN if own else matrix.OTHER, role)])])
                headers = {"Authorization": f"Bearer {rh.token(ids[name])}"}
            for route in routes:
                path = matrix._path(route, number, item.id)
                for method in sorted(route.methods - {"HEAD"}):
                    reply = rh.request(shared.server.port, method, path, {} if method == "POST" else None, headers)
                    assert reply.status is not None and reply.status < 500, f"{method} {path}: {reply.status}"
                    want = matrix._expected(route, role, own, pack)
                    opened = reply.status not in (401, 403)
                    checked += 1
                    if opened != want:
                        failures.append(f"{role or 'anonymous'} {'own' if own else 'other'} {method} {path}: "
                                        f"{reply.status}, expected {'open' if want else 'refused'}")
    figures.inputs += checked
    assert not failures, "\n".join(failures)
    assert checked >= 150

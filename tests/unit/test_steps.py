"""Declarative end-to-end flows (``[[e2e.steps]]``) against a real HTTP application: requests,
captures by JSON path, expectations, sessions opened by login steps, generated values and a
Python check — and every way a flow can break turns into a failed check, never a silent pass."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.config.profile import Profile, load_profile
from releasegate.measure.api import Api, login
from releasegate.measure.recorder import CheckList
from releasegate.measure.steps import FlowRun, FlowRunner
from tests.unit.fake_app import USERS, FakeApp, running

VALUES = {"secret.admin_password": USERS["admin"], "secret.alice": USERS["alice"]}
HEAD = """
[profile]
name = "steps"
[services.app]
kind = "app"
image = "x:1"
port = 80
[login]
path = "/login"
username = "admin"
password = "{secret.admin_password}"
token_path = "data.token"
header = "X-Auth"
scheme = ""
"""
FLOW = """
[e2e]
vars = { price = "12.50", tag_copy = "copy-{run.tag}" }

[[e2e.steps]]
name = "create an item"
method = "POST"
path = "/items"
json = { name = "widget {run.tag}", price = "{price}", qty = 3, note = "{{literal}}" }
expect_status = 201
capture = { item_id = "id", item_name = "name" }
expect = { qty = 3, price = "12.5", owner = "admin" }

[[e2e.steps]]
name = "log in as alice"
login = { username = "alice", password = "{secret.alice}" }
session = "alice"

[[e2e.steps]]
name = "alice reads the item"
session = "alice"
path = "/items/{item_id}"
expect = { id = "{item_id}", name = "{item_name}" }

[[e2e.steps]]
name = "search finds it"
session = "alice"
path = "/items"
params = { q = "{item_name}" }
expect = { total = 1, "items.0.id" = "{item_id}" }

[[e2e.steps]]
name = "anonymous is refused"
session = "anonymous"
path = "/items"
expect_status = 401

[[e2e.steps]]
name = "a form-encoded request"
session = "anonymous"
method = "POST"
path = "/oauth/token"
form = { username = "alice", password = "{secret.alice}" }
expect = { token_type = "bearer" }

[[e2e.steps]]
name = "the items add up"
check = "checks.py:items_add_up"
"""
CHECKS = '''
def items_add_up(ctx):
    listed = ctx.session("alice").get("/items").json()
    ctx.checks.add("one item listed", listed["total"] == 1, str(listed["total"]))
    return {"total": listed["total"], "price": ctx.vars["price"]}
'''


@pytest.fixture
def app() -> Iterator[FakeApp]:
    with running() as server:
        yield server


def profile(tmp_path: Path, flow: str = FLOW) -> Profile:
    (tmp_path / "checks.py").write_text(CHECKS)
    path = tmp_path / "p.toml"
    path.write_text(HEAD + flow)
    return load_profile(path)


def run(app: FakeApp, p: Profile) -> tuple[CheckList, FlowRun]:
    admin: list[Api] = []

    def as_admin() -> Api:
        if not admin:
            admin.append(login(app.url, p.login, VALUES))
        return admin[0]

    checks = CheckList()
    flow = FlowRunner(p.e2e, base_url=app.url, values=VALUES, recipe=p.login, admin=as_admin,
                      checks=checks, base=p.path.parent).execute()
    return checks, flow


def test_a_declared_flow_runs_end_to_end(app: FakeApp, tmp_path: Path) -> None:
    checks, flow = run(app, profile(tmp_path))
    assert checks.violations == []
    assert len(checks.checks) == 17 and not flow.stopped
    item = app.items[1]
    # Generated values, vars and escaped braces; numbers stay numbers.
    assert item["name"] == f"widget {flow.tag}" and item["qty"] == 3
    assert item["price"] == "12.50" and item["note"] == "{literal}"
    assert flow.captured == {"item_id": 1, "item_name": f"widget {flow.tag}"}
    assert flow.results == {"the items add up": {"total": 1, "price": "12.50"}}
    assert [s["status"] for s in flow.steps if "status" in s] == [201, 200, 200, 401, 200]
    assert "price" not in json.dumps(flow.evidence()["captured"])


def test_a_wrong_answer_fails_its_check_and_the_flow_goes_on(app: FakeApp,
                                                               tmp_path: Path) -> None:
    checks, flow = run(app, profile(tmp_path, FLOW.replace('owner = "admin"', 'owner = "bob"')))
    assert checks.violations == ["create an item: owner is 'bob': got 'admin'"]
    assert not flow.stopped


def test_an_unexpected_status_stops_the_flow_and_says_where(app: FakeApp,
                                                            tmp_path: Path) -> None:
    checks, flow = run(app, profile(tmp_path, FLOW.replace("expect_status = 401",
                                                           "expect_status = 200")))
    assert checks.violations[0].startswith(
        "anonymous is refused: GET /items answered 401, expected 200: {")
    assert checks.violations[1] == ("the flow runs to the end: stopped at step 5 ('anonymous is "
                                    "refused'): answered 401; 2 later step(s) not run")
    assert flow.stopped and len(flow.steps) == 5


def test_a_refused_login_step_stops_the_flow_with_the_reason(app: FakeApp,
                                                             tmp_path: Path) -> None:
    checks, _ = run(app, profile(tmp_path, FLOW.replace(
        'login = { username = "alice", password = "{secret.alice}" }',
        'login = { username = "alice", password = "wrong" }')))
    assert checks.violations[0] == ("log in as alice: the profile's login recipe (as 'alice') "
                                    "got 401 from POST /login: {\"detail\": \"bad credentials\"}")
    assert "stopped at step 2" in checks.violations[1]


def test_a_capture_that_finds_nothing_stops_the_flow(app: FakeApp, tmp_path: Path) -> None:
    checks, flow = run(app, profile(tmp_path, FLOW.replace('item_id = "id"',
                                                           'item_id = "data.id"')))
    assert checks.violations[0].startswith("create an item: capture item_id from 'data.id': "
                                           "nothing there in {")
    assert "stopped at step 1" in checks.violations[1] and len(flow.steps) == 1


@pytest.mark.parametrize(("flow", "message"), [
    ('[e2e]\nflows = "x"\n', "e2e.flows: unknown key"),
    ('[[e2e.steps]]\nname = "a"\npath = "/x/{item}"\n',
     "e2e.steps[0].path: {item} is neither captured by an earlier step nor in [e2e] vars"),
    ('[[e2e.steps]]\nname = "a"\npath = "/x"\nsession = "bob"\n',
     "e2e.steps[0].session: no session 'bob' is open at this step"),
    ('[[e2e.steps]]\nname = "a"\npath = "/x"\ncheck = "m:f"\n',
     "step 'a' needs exactly one of path (a request), login (open a session) or check"),
    ('[[e2e.steps]]\nname = "a"\npath = "/x"\nexpect_status = "201"\n',
     "e2e.steps[0].expect_status: expected int or list"),
    ('[[e2e.steps]]\nname = "a"\npath = "/x"\nexpect_stauts = 201\n',
     "e2e.steps[0].expect_stauts: unknown key"),
    ('[[e2e.steps]]\nname = "a"\nlogin = { username = "u", password = "p" }\nsession = "admin"\n',
     "e2e.steps[0].session: 'admin' is already a session"),
    ('[[e2e.steps]]\nname = "a"\ncheck = "no_function"\n', "'no_function' is not module:function"),
    ('[[e2e.steps]]\nname = "a"\npath = "/x"\nparams = { q = [1] }\n',
     "e2e.steps[0].params.q: form fields and query parameters are plain values"),
])
def test_flow_mistakes_are_profile_errors(tmp_path: Path, flow: str, message: str) -> None:
    from releasegate.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        profile(tmp_path, flow)
    assert message in info.value.one_line()


def test_a_login_step_needs_the_profiles_recipe(tmp_path: Path) -> None:
    from releasegate.errors import ConfigError

    path = tmp_path / "p.toml"
    path.write_text(HEAD.split("[login]")[0] + '[[e2e.steps]]\nname = "a"\n'
                    'login = { username = "u", password = "p" }\nsession = "s"\n')
    with pytest.raises(ConfigError, match="uses the profile's \\[login\\] recipe, and there is "
                                          "none"):
        load_profile(path)


def test_needs_admin_only_when_a_step_uses_it(tmp_path: Path) -> None:
    anonymous = '[[e2e.steps]]\nname = "a"\npath = "/x"\nsession = "anonymous"\n'
    assert not profile(tmp_path, anonymous).e2e.needs_admin
    assert profile(tmp_path).e2e.needs_admin


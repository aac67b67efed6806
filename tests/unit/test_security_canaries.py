"""Canaries are found in the forms a leak takes, across chunk boundaries and inside image
layers, and never repeated by the evidence that reports them; refused starts are classified."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from releasegate.measure.security.canaries import (
    Canaries,
    make_pii,
    pii_canaries,
    secret_canaries,
)
from releasegate.measure.security.image_scan import scan_image_metadata, scan_saved_image
from releasegate.measure.security.refusal import (
    StartAttempt,
    secret_refusal_finding,
    secret_variables,
)
from releasegate.measure.security.sources import get_operations, log_files

SECRET = "Zq3_kP9-wX2mN8vB4tY6"


def test_pii_is_found_without_punctuation_country_code_or_case_and_masked() -> None:
    pii = make_pii("run1")
    canaries = pii_canaries(pii)
    digits = pii["phone"].lstrip("+")
    national = digits[-10:]
    text = (f"renter {national} wrote {pii['email'].upper()} id {pii['id_number'].lower()} "
            f"and {digits}")
    hits = canaries.find(text, "app log")
    assert sorted(h.label for h in hits) == ["pii:email", "pii:id_number", "pii:phone"]
    for hit in hits:
        assert national not in hit.excerpt and pii["email"] not in hit.excerpt.lower()
    assert "«pii:phone»" in canaries.mask(text)


def test_short_values_are_not_canaries() -> None:
    assert not secret_canaries({"pin": "1234"})
    assert secret_canaries({"key": SECRET}).labels() == ["secret:key"]


@given(st.integers(0, 300))
def test_a_canary_split_across_chunks_is_still_found(offset: int) -> None:
    canaries = Canaries({"secret:key": SECRET})
    data = b"x" * ((1 << 20) - offset) + SECRET.encode() + b"y" * 10
    hits = canaries.find_in_stream(io.BytesIO(data), "big file")
    assert [h.label for h in hits] == ["secret:key"]


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_every_file_of_every_layer_is_searched() -> None:
    clean = _tar({"usr/lib/x.py": b"print(1)\n"})
    leaky = _tar({"app/config.env": f"KEY={SECRET}\n".encode(), "app/ok.txt": b"fine"})
    saved = _tar({"manifest.json": b"[]", "aaaaaaaaaaaaaaaa/layer.tar": clean,
                  "bbbbbbbbbbbbbbbb/layer.tar": leaky})
    scan = scan_saved_image(_chunks(saved), Canaries({"secret:key": SECRET}))
    assert (scan.layers, scan.files) == (2, 3)
    assert [(h.label, h.where) for h in scan.hits] == [
        ("secret:key", "layer bbbbbbbbbbbb: /app/config.env")]
    assert SECRET not in scan.hits[0].excerpt


def test_env_labels_and_history_are_searched() -> None:
    image = {"Config": {"Env": ["A=1"], "Labels": {"token": SECRET}}}
    history = [{"CreatedBy": f"|1 KEY={SECRET} /bin/sh -c make"}, {"CreatedBy": "CMD x"}]
    hits, items = scan_image_metadata(image, history, Canaries({"secret:key": SECRET}))
    assert items == 4 and sorted(h.where for h in hits) == ["LABEL token", "history step 0"]


def attempt(**kw: Any) -> StartAttempt:
    base: dict[str, Any] = {"label": "APP_KEY removed", "variable": "APP_KEY",
                            "healthy_after_s": None, "exit_code": 2,
                            "logs": "refusing to start: APP_KEY is not set", "waited_s": 30.0}
    return StartAttempt(**{**base, **kw})


def test_refusals_are_judged_by_exit_code_message_and_health() -> None:
    canaries = Canaries({"secret:key": SECRET})

    def judge(**kw: Any) -> str:
        found = secret_refusal_finding(attempt(**kw), criterion="SEC-SECRETS-ENV",
                                       rule="r", reproduction="", canaries=canaries)
        return "refused" if found is None else found.severity

    assert judge() == "refused"
    assert judge(logs=f"bad config (key {SECRET})") == "medium"
    assert judge(exit_code=None, healthy_after_s=2.0) == "critical"
    assert judge(exit_code=0) == "high"
    assert judge(exit_code=None) == "high"
    found = secret_refusal_finding(attempt(logs=f"bad config {SECRET}"), criterion="C",
                                   rule="r", reproduction="", canaries=canaries)
    assert found is not None and SECRET not in found.evidence


def test_secret_variables_are_those_built_from_secret_placeholders() -> None:
    env = {"KEY": "{secret.app_key}", "URL": "postgresql://u:{db.password}@{db.host}/x",
           "HOST": "{db.host}", "MODE": "production"}
    assert secret_variables(env) == ["KEY", "URL"]


def test_documented_parameterless_gets() -> None:
    document = {"paths": {"/a": {"get": {}}, "/b/{id}": {"get": {}}, "/c": {"post": {}}}}
    assert get_operations(document) == ["/a"] and get_operations("junk") == []


class _Container:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def get_archive(self, path: str) -> tuple[Iterator[bytes], dict[str, Any]]:
        return _chunks(_tar(self.files)), {"name": path}


def test_log_files_and_their_rotations_are_read_from_the_container() -> None:
    container = _Container({"logs/app.log": b"one", "logs/app.log.1": b"two",
                            "logs/other.txt": b"three"})
    found, why_not = log_files(container, "/srv/logs/app.log")
    # The archive of /srv/logs names its members logs/…: shown where they are in the container.
    assert why_not == "" and [w for w, _ in found] == ["log file /srv/logs/app.log",
                                                       "log file /srv/logs/app.log.1"]
    assert log_files(container, None) == ([], "the profile names no log file")


def test_pii_requests_are_rendered_sent_and_checked_against_their_plan() -> None:
    import json

    import httpx

    from releasegate.config.sections.security_checks import PiiRequest
    from releasegate.measure.api import Api
    from releasegate.measure.security.pii import send

    seen: list[tuple[str, str, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.content))
        return httpx.Response(201 if request.url.path == "/people" else 422)

    client = Api("http://app")
    client.http = httpx.Client(base_url="http://app", transport=httpx.MockTransport(answer))
    pii = make_pii("r1")
    values = {f"pii.{k}": v for k, v in pii.items()} | {"run.id": "r1"}
    requests = (
        PiiRequest("POST", "/people", {"phone": "{pii.phone}", "tags": ["{run.id}"]}, expect=201),
        PiiRequest("POST", "/login", {"user": "{pii.email}"}, auth=False, form=True),
    )
    sent = send(requests, values, api=None, anon=client, canaries=pii_canaries(pii))
    assert json.loads(seen[0][2]) == {"phone": pii["phone"], "tags": ["r1"]}
    assert seen[1][2].decode() == f"user={pii['email'].replace('@', '%40')}"
    assert [(s.request, s.status, s.as_planned) for s in sent] == [
        ("POST /people", 201, True), ("POST /login", 422, False)]


def test_without_a_login_the_checks_still_look_and_say_why(tmp_path: Any) -> None:
    from releasegate.config.profile import load_profile
    from releasegate.measure.security.sources import try_login
    from tests.unit.test_profile import write

    client, why = try_login("http://127.0.0.1:9", load_profile(write(tmp_path)), {})
    assert client is None and why.startswith("no login: the profile has no [login] recipe")


def test_one_finding_per_place_names_every_canary_found_there() -> None:
    from releasegate.measure.security.canaries import leak_findings

    pii = make_pii("r2")
    canaries = pii_canaries(pii)
    hits = canaries.find(f"renter {pii['phone']} {pii['email']}", "app container log")
    hits += canaries.find(f"bad input {pii['email']}", "error body of POST /people (422)")
    found = leak_findings(hits, criterion="SEC-LOG-NO-SENSITIVE", rule="canary-in-logs",
                          severity="high", reproduce=lambda where: f"look at {where}",
                          owasp=lambda where: "API3" if where.startswith("error") else "")
    assert [(f.location, f.owasp) for f in found] == [
        ("app container log", ""), ("error body of POST /people (422)", "API3")]
    assert found[0].title == ("the canaries pii:email, pii:phone appear in app container log")
    assert pii["email"] not in found[0].evidence


def test_how_to_look_at_each_kind_of_place() -> None:
    from functools import partial
    from pathlib import Path

    from releasegate.measure.security.sources import how_to_look

    look = partial(how_to_look, containers={"app": "rg-app", "db": "rg-db"},
                   base_url="http://127.0.0.1:8", evidence_dir=Path("/r/m"))
    assert look("db container log").startswith("docker logs rg-db ")
    assert look("log file /app/logs/a.log").startswith(
        "docker exec rg-app grep -F '<the planted value>' /app/logs/a.log")
    assert look("response to GET (anonymous) /x (401)").startswith(
        "curl -si -X GET 'http://127.0.0.1:8/x'")
    assert look("report file attachments/a.json").endswith("/r/m/attachments/a.json")

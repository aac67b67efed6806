"""summary.md: the verdict first, the blockers, the change since the previous run."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.report.markdown import headline, render_markdown
from releasegate.report.sample import record, sample_previous, sample_summary
from releasegate.report.summary import error_summary


def _release(verdict: str, exit_code: int, blockers: list[str],
             headline: str = "") -> dict[str, Any]:
    return {"verdict": verdict, "exit_code": exit_code, "blockers": blockers, "warnings": [],
            "reason": "", "headline": headline}


def test_headline_is_the_first_line_in_words_with_coverage() -> None:
    text = render_markdown(sample_summary())
    assert text.splitlines()[0] == (
        "# ❌ NOT READY — 6 of 45 documented criteria assessed; 38 not run; 1 failed; "
        "1 could not be measured; 1 insufficient; 1 excluded")


@pytest.mark.parametrize(("release", "expected"), [
    (_release("ready", 0, [], "READY — 45 of 45 documented criteria assessed"),
     "# ✅ READY — 45 of 45 documented criteria assessed"),
    (_release("not_ready", 2, ["FUNC-HEALTH"], "NOT READY — x"), "# ❌ NOT READY — x"),
    (_release("insufficient", 3, ["REL-SUCCESS-RATE"], "NOT READY — y"), "# ⚠️ NOT READY — y"),
    (_release("error", 1, ["SEC-DEPS"], "HARNESS ERROR — z"), "# 💥 HARNESS ERROR — z"),
    (_release("scope_failed", 2, ["FUNC-HEALTH"], "partial — not a release decision: a"),
     "# ❌ partial — not a release decision: a"),
    (_release("scope_failed", 3, ["FUNC-HEALTH"], "partial — not a release decision: b"),
     "# ⚠️ partial — not a release decision: b"),
    (_release("bogus", 0, [], "BOGUS"), "# 💥 BOGUS"),
    # A summary written before headlines existed still says what it is, and no more.
    (_release("ready", 0, []), "# ✅ READY — 1 criteria judged"),
])
def test_headlines(release: dict[str, Any], expected: str) -> None:
    summary = sample_summary()
    summary["release"], summary["criteria"] = release, [record("FUNC-HEALTH", "pass", 0)]
    assert headline(summary) == expected


def test_partial_run_is_loud_and_never_ready_for_release() -> None:
    summary = sample_summary()
    summary["run"].update({"partial": True, "suites": ["deploy", "e2e"],
                           "partial_because": ["--suite deploy e2e"]})
    summary["release"] = _release("scope_passed", 0, [], "partial — not a release decision: "
                                  "SCOPE PASSED — 1 of 1 criteria in scope assessed")
    summary["criteria"] = [record("FUNC-HEALTH", "pass", 0)]
    text = render_markdown(summary)
    assert text.startswith("# ✅ partial — not a release decision: SCOPE PASSED")
    assert "READY FOR RELEASE" not in text
    assert "Partial run (--suite deploy e2e): not a release decision" in text


def test_facts_and_blockers() -> None:
    text = render_markdown(sample_summary())
    assert "**Exit code:** 2" in text
    assert "**Profile:** **rento** (`profiles/rento.toml`)" in text
    assert ("**Target:** http://127.0.0.1:49153 (app image `rento:3f2c1e0`, git revision "
            "`3f2c1e0`, PostgreSQL `15.14`)") in text
    assert "`a1b2c3d4` — 2026-11-21 10:15:03 UTC, took 12 min 03 s" in text
    blockers = text.split("## Blockers", 1)[1].split("## Criteria", 1)[0]
    assert ("- **FUNC-HEALTH** — Health endpoint reports the correct state — ❌ FAIL: "
            "[db down] health answered 200") in blockers
    for cid in ("REL-SUCCESS-RATE", "SEC-DEPS", "SEC-API-FUZZ"):
        assert f"- **{cid}**" in blockers
    assert "### Warnings (non-blocking)" in blockers and "SEC-SAST" in blockers


def test_table_has_every_criterion_with_formatted_numbers() -> None:
    text = render_markdown(sample_summary(), sample_previous())
    table = text.split("## Criteria", 1)[1].split("## Change", 1)[0]
    rows = {line.split(" | ")[0][2:]: line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| ID")}
    assert set(rows) == {r["id"] for r in sample_summary()["criteria"]}
    assert rows["PERF-API-P95"] == (
        "| PERF-API-P95 | API response time, per endpoint | 812.3 ms | < 1000 ms | ✅ PASS "
        "| +22.2 ms (worse) |")
    assert ("| 1 violation | ≤ 0 violations | ❌ FAIL | PASS → FAIL, +1 violation (worse), "
            "⚠️ regression |") in rows["FUNC-HEALTH"]
    assert "| 2000 clients | ≥ 2000 clients | 🟡 WAIVED |" in rows["PERF-CONCURRENCY"]
    assert "❌ FAIL (non-blocking)" in rows["SEC-SAST"]


def test_change_section_lists_verdict_changes_and_deltas() -> None:
    text = render_markdown(sample_summary(), sample_previous())
    section = text.split("## Change since the previous run", 1)[1].split("## Waivers", 1)[0]
    assert "run `0f0e0d0c`" in section
    assert "release HARNESS ERROR → NOT READY" in section
    assert "- FUNC-HEALTH pass → fail — Health endpoint reports the correct state" in section
    assert "- PERF-API-P95 790.1 ms → 812.3 ms (+22.2 ms, worse)" in section


def test_without_previous_run() -> None:
    text = render_markdown(sample_summary(), None)
    assert "No previous run to compare with." in text
    assert "| — |" in text


def test_waivers_with_days_left_and_expired_waivers() -> None:
    summary = sample_summary()
    summary["criteria"].append(record(
        "PERF-MEMORY", "fail", 600.0,
        reasons=["waiver expired on 2026-11-01; the documented limit applies"]))
    text = render_markdown(summary)
    section = text.split("## Waivers", 1)[1].split("## Not assessed", 1)[0]
    assert ("| PERF-CONCURRENCY | 🟡 WAIVED | 2-core CI runner cannot hold 10,000 clients "
            "| release board | 2026-12-31 | 40 |") in section
    assert "PERF-MEMORY: waiver expired on 2026-11-01" in section


def test_not_assessed_and_evidence() -> None:
    evidence = {"HTML": "[html/index.html](html/index.html)"}
    text = render_markdown(sample_summary(), evidence=evidence)
    section = text.split("## Not assessed", 1)[1]
    assert "- SEC-API-FUZZ — Schema-driven API fuzzing" in section.split("**Excluded")[0]
    assert ("| COMPAT-BROWSER | Browser | the service serves no HTML pages | release board "
            "| never |") in section
    assert "- COMPAT-PYTHON — Runtime versions" in section
    assert "- **HTML:** [html/index.html](html/index.html)" in section


def test_error_summary_markdown_says_what_went_wrong() -> None:
    summary = error_summary(message="port 5432 is in use", category="environment problem",
                            hint="stop the other PostgreSQL", criteria=["FUNC-HEALTH"])
    text = render_markdown(summary)
    assert text.startswith("# 💥 HARNESS ERROR — the run aborted (environment problem): "
                           "0 of 45 documented criteria assessed\n")
    assert "**environment problem:** port 5432 is in use" in text
    assert "**How to fix:** stop the other PostgreSQL" in text
    assert "⏭️ NOT RUN" in text
    assert "Unknown: the run aborted before its scope was settled." in text


def test_pipes_in_text_do_not_break_the_table() -> None:
    summary = sample_summary()
    summary["criteria"] = [record("FUNC-HEALTH", "fail", 1, title="a | b")]
    text = render_markdown(summary)
    assert "| FUNC-HEALTH | a \\| b |" in text


def test_regressions_beyond_the_share_are_flagged_even_under_the_limit() -> None:
    summary, previous = sample_summary(), sample_previous()
    # PERF-API-P95 790.1 → 812.3 ms: 2.8 % worse, under the 1000 ms limit.
    assert "PERF-API-P95 790.1 ms → 812.3 ms" not in render_markdown(summary, previous).split(
        "Regressions beyond")[-1].split("**Verdict changes**")[0]
    summary["run"]["regression_share"] = 0.02
    text = render_markdown(summary, previous)
    section = text.split("**⚠️ Regressions beyond 2%**", 1)[1].split("**Verdict changes**")[0]
    assert "- PERF-API-P95 790.1 ms → 812.3 ms" in section


def test_unstable_and_trend_table() -> None:
    from releasegate.report.trends import Trend

    summary = sample_summary()
    steady = Trend("PERF-API-P95", "ms", 1000.0, (("a", 700.0), ("b", 705.0), ("c", 702.0)))
    shaky = Trend("PERF-API-P95", "ms", 1000.0, (("a", 600.0), ("b", 1100.0), ("c", 950.0)))
    assert not steady.unstable and shaky.unstable
    text = render_markdown(summary, trend={"PERF-API-P95": shaky},
                           plots={"PERF-API-P95": "trends/PERF-API-P95.png"})
    row = next(line for line in text.splitlines() if line.startswith("| PERF-API-P95 | API"))
    assert "⚠️ unstable" in row
    assert "| PERF-API-P95 | 3 | 600.0 ms | 950.0 ms | 1100.0 ms |" in text
    assert "[plot](trends/PERF-API-P95.png)" in text

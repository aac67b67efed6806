"""Repeatability: verdicts must agree across runs; spreads and unstable values are reported."""

from __future__ import annotations

from typing import Any

from releasegate.selfcheck.repeat import collect, render_markdown


def summary(verdict: str, p95: float, health: str = "pass") -> dict[str, Any]:
    return {"release": {"verdict": verdict},
            "criteria": [{"id": "PERF-API-P95", "verdict": "pass", "measured": p95,
                          "unit": "ms", "limit": 1000},
                         {"id": "FUNC-HEALTH", "verdict": health, "measured": 0,
                          "unit": "violations", "limit": 0}]}


def test_agreeing_runs_and_their_spread() -> None:
    result = collect([summary("insufficient", 700), summary("insufficient", 720),
                      summary("insufficient", 710)], [3, 3, 3], [10.0, 11.0, 9.0])
    assert result.verdicts_agree and not result.disagreements
    stats = result.spreads["PERF-API-P95"].stats
    assert (stats["min"], stats["median"], stats["max"]) == (700, 710, 720)
    assert not result.spreads["PERF-API-P95"].unstable
    assert "same verdicts in every run" in render_markdown(result)


def test_disagreement_and_instability_are_reported() -> None:
    result = collect([summary("insufficient", 600), summary("not_ready", 1100, "fail"),
                      summary("insufficient", 950)], [3, 2, 3], [1.0, 1.0, 1.0])
    assert not result.verdicts_agree
    assert result.disagreements["FUNC-HEALTH"] == ["pass", "fail", "pass"]
    assert result.spreads["PERF-API-P95"].unstable
    text = render_markdown(result)
    assert "the verdicts differ between runs" in text and "⚠️ unstable" in text


def test_one_run_or_a_missing_summary_never_agrees() -> None:
    assert not collect([summary("ready", 1)], [0], [1.0]).verdicts_agree
    assert not collect([summary("ready", 1), {}], [0, 1], [1.0, 1.0]).verdicts_agree

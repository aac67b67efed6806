"""PERF-STRESS-CAPACITY: the arrival rate stepped up until p95 or the error limit breaks; the
capacity is the last step that met every limit, reported with the whole curve (table and plot)."""

from __future__ import annotations

import pytest
from releasegate.fixtures.load import LoadRunner, Verdicts
from releasegate.fixtures.loadjudge import run_evidence

from releasegate.config.profile import Profile
from releasegate.config.sections.load import LoadSettings
from releasegate.loadgen import plots, selfwatch
from releasegate.loadgen.plan import Stage
from releasegate.loadgen.results import RunResult
from releasegate.loadgen.stepping import capacity, step_rows, table
from releasegate.measure.recorder import Recorder

pytestmark = [pytest.mark.stress, pytest.mark.disruptive]

CID = "PERF-STRESS-CAPACITY"


class StepBroken:
    """Stops the run once a finished step has broken a limit (the curve beyond it is noise)."""

    def __init__(self, p95_ms: float, error_pct: float) -> None:
        self.p95_ms, self.error_pct = p95_ms, error_pct

    def reason(self, result: RunResult) -> str | None:
        _, broken = capacity(step_rows(result), self.p95_ms, self.error_pct)
        if broken is not None and broken.complete:
            return f"step {broken.step} ({broken.offered:g}/s) broke: " + "; ".join(
                broken.breaks(self.p95_ms, self.error_pct))
        return None


@pytest.mark.criterion(CID)
def test_capacity(load_runner: LoadRunner, load_settings: LoadSettings, gate_profile: Profile,
                  durations: str, reference_data: str, record: Recorder,
                  verdicts: Verdicts) -> None:
    st = load_settings.stress
    p95_ms = gate_profile.thresholds["PERF-API-P95"].limit \
        if "PERF-API-P95" in gate_profile.thresholds else 1000.0
    step_s = st.step_s.of(durations)
    stages = [Stage(seconds=step_s, rate=st.start_rate + i * st.step_rate)
              for i in range(st.max_steps)]
    plan = load_runner.plan(stages)
    run = load_runner.run(plan, "stress", abort=StepBroken(p95_ms, st.error_rate_pct))
    rows = step_rows(run.result)
    found, broken = capacity(rows, p95_ms, st.error_rate_pct)
    load_runner.say(f"stress: {len(rows)} steps of {step_s:g} s took {run.seconds:.0f} s; capacity "
        f"{found:g} req/s")
    curve = table(rows, p95_ms, st.error_rate_pct)
    attachments = [record.attach("stress-capacity.md", curve),
                   record.attach("stress-capacity.png", plots.capacity(
                       [r.as_dict() for r in rows], p95_ms)),
                   record.attach("stress-timeline.png", plots.timeline(
                       run.result, "stress: stepped arrival rate", run.memory))]
    until = (broken.step * step_s) if broken is not None else None
    problems = selfwatch.problems(run.result, load_settings.generator, until_s=until)
    problems += [run.machine_problem] if run.machine_problem else []
    evidence = {**run_evidence(run), "generator_problems": problems,
                "curve": [r.as_dict() for r in rows], "limits": {
                    "p95_ms": p95_ms, "error_pct": st.error_rate_pct},
                "first_broken_step": broken.as_dict() if broken else None,
                "limit_found": broken is not None}
    if problems:
        verdicts.insufficient(CID, "the load generator's figures cannot be trusted up to the "
                              "breaking step: " + "; ".join(problems))
    elif not rows:
        verdicts.insufficient(CID, "no step of the stress run was measured")
    else:
        note = (f"first broken step {broken.step} at {broken.offered:g}/s" if broken else
                f"no step broke up to {rows[-1].offered:g}/s: the capacity is at least that")
        verdicts(CID, value=found, samples=sum(r.requests for r in rows),
                 source="stepped open-model arrival rate; HDR histograms per step, corrected "
                        f"for coordinated omission; {note}",
                 evidence=evidence, attachments=attachments)
    verdicts.done()

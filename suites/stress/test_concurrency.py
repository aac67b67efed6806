"""PERF-CONCURRENCY: the profile's number of clients (the criterion's limit, 10,000 by default)
held at once across the local workers, each sending a request every ``think_s``, with the error
rate under the stress suite's limit. The workers raise their file-descriptor limit to the hard
limit first; a machine that cannot hold the documented number lowers the limit in the profile
with a waiver, and the report shows it as waived."""

from __future__ import annotations

import pytest
from releasegate.fixtures.load import LoadRunner, Verdicts
from releasegate.fixtures.loadjudge import attach_timeline, run_evidence, untrusted

from releasegate.config.profile import Profile
from releasegate.config.sections.load import LoadSettings
from releasegate.loadgen.plan import CLOSED, Stage
from releasegate.loadgen.results import Tally
from releasegate.measure.recorder import Recorder

pytestmark = [pytest.mark.stress, pytest.mark.disruptive]

CID = "PERF-CONCURRENCY"


@pytest.mark.criterion(CID)
def test_concurrent_clients(load_runner: LoadRunner, load_settings: LoadSettings,
                            gate_profile: Profile, durations: str, record: Recorder,
                            verdicts: Verdicts) -> None:
    c = load_settings.concurrency
    clients = int(gate_profile.thresholds[CID].limit) if CID in gate_profile.thresholds \
        else 10_000
    per_worker = -(-clients // load_runner.total_workers)
    ramp = clients / c.spawn_rate
    warmup = c.think_s  # clients start at random moments within one think time
    path = c.path or gate_profile.app.liveness_path or gate_profile.app.health_path
    plan = load_runner.plan(
        [Stage(seconds=warmup + c.hold_s.of(durations), users=per_worker)], model=CLOSED,
        scenario="generic", config={"endpoints": [{"name": "held client", "path": path,
                                                   "auth": False}]},
        pool=per_worker, think_s=c.think_s, warmup_s=warmup, lead_s=ramp + 2,
        spawn_rate=c.spawn_rate)
    run = load_runner.run(plan, "concurrency")
    load_runner.say(f"concurrency: {clients} clients held for {c.hold_s.of(durations):g} s "
                    f"took {run.seconds:.0f} s")
    if untrusted(run, verdicts, [CID]):
        verdicts.done()
        return
    users, connections = run.result.clients_held(warmup, warmup + c.hold_s.of(durations))
    overall: Tally = run.result.overall()
    error_pct = 100.0 * overall.server_errors / overall.count if overall.count else 100.0
    limit = load_settings.stress.error_rate_pct
    violations = [f"{error_pct:.2f} % of {overall.count} requests failed (limit {limit:g} %)"] \
        if error_pct > limit else []
    if overall.count == 0:
        violations.append("no request was answered while the clients were held")
    verdicts(CID, value=float(users), samples=overall.count, violations=violations,
             attachments=attach_timeline(record, run, "concurrency-timeline",
                                         f"{clients} concurrent clients"),
             source=f"{load_runner.total_workers} Locust workers' own count of running clients "
                    "(the minimum over the hold window); each client sends GET "
                    f"{path} every {c.think_s:g} s",
             evidence={**run_evidence(run), "clients_asked": clients, "clients_held": users,
                       "tcp_connections_established_max": connections,
                       "error_pct": round(error_pct, 3), **overall.describe()})
    verdicts.done()

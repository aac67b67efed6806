"""The run-wide files of an Allure results directory: environment, categories and executor.

Allure 2 and the Allure 3 Allure-2-style plugins read these from the results directory; the
Allure 3 Awesome plugin takes categories from its config, which is why reports/allurerc.mjs
loads the categories.json written here instead of repeating the rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from releasegate.evidence.redact import Redactor, identity
from releasegate.report.files import write_atomic
from releasegate.report.summary import profile_name, run_info

# Every failing verdict starts its status message with one of these prefixes (see
# allure_results.MESSAGE_PREFIX); the regexes are anchored so a reason that merely mentions
# "harness error" in passing cannot land in the wrong category.
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Threshold breach",
        "description": "A criterion was measured and broke its limit.",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Harness error",
        "description": "The harness or a tool it drives broke before it could measure.",
        "matchedStatuses": ["broken"],
        "messageRegex": "^harness error.*",
    },
    {
        "name": "Insufficient evidence",
        "description": "Too few samples, nothing measured or zero operations tested.",
        "matchedStatuses": ["broken"],
        "messageRegex": "^insufficient evidence.*",
    },
    {
        "name": "Environment problem",
        "description": "The machine could not run the stack, or the criterion was not run.",
        "matchedStatuses": ["broken", "skipped"],
        "messageRegex": "^(environment problem|not run).*",
    },
    {
        "name": "Configuration error",
        "description": "The profile or the command line is wrong; the run aborted.",
        "matchedStatuses": ["broken"],
        "messageRegex": "^configuration error.*",
    },
]


def _escape_properties(text: str, *, key: bool) -> str:
    """Java .properties escaping, ASCII only: Allure 2 reads the file as ISO-8859-1."""
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif key and ch in " =:#!":
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            # One \uXXXX per UTF-16 code unit: characters beyond the BMP become surrogate pairs.
            data = ch.encode("utf-16-be")
            out.extend(f"\\u{data[i:i + 2].hex().upper()}" for i in range(0, len(data), 2))
    return "".join(out)


def environment_properties(summary: Mapping[str, Any]) -> str:
    run = run_info(summary)
    entries: dict[str, str] = {}
    environment = run.get("environment")
    if isinstance(environment, Mapping):
        entries.update({str(k): str(v) for k, v in environment.items()})
    suites = run.get("suites")
    entries.update({
        "profile": str(run.get("profile") or ""),
        "profile_name": profile_name(summary),
        "provider": str(run.get("provider") or ""),
        "suites": ", ".join(map(str, suites)) if isinstance(suites, list) else "",
        "partial": "yes" if run.get("partial") else "no",
        "target": str(run.get("target") or ""),
        "run_id": str(run.get("id") or ""),
    })
    lines = [
        f"{_escape_properties(k, key=True)}={_escape_properties(v, key=False)}"
        for k, v in entries.items()
    ]
    return "\n".join(lines) + "\n"


def executor_info(summary: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Who ran the checks: the CI job when its variables are present, else this machine."""
    run = run_info(summary)
    report_name = f"releasegate — {profile_name(summary)} — run {run.get('id', 'unknown')}"
    info: dict[str, Any] = {"name": "releasegate", "type": "local", "reportName": report_name}
    if env.get("GITHUB_ACTIONS") == "true" or env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY", "")
        run_id = env.get("GITHUB_RUN_ID", "")
        info.update({
            "type": "github",
            "buildName": f"{env.get('GITHUB_WORKFLOW', 'workflow')} #"
                         f"{env.get('GITHUB_RUN_NUMBER', run_id)}",
            "buildUrl": f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else "",
        })
        order = env.get("GITHUB_RUN_NUMBER", "")
    elif env.get("GITLAB_CI") or env.get("CI_PIPELINE_ID") or env.get("CI_JOB_ID"):
        info.update({
            "type": "gitlab",
            "buildName": f"{env.get('CI_PROJECT_PATH', 'pipeline')} "
                         f"#{env.get('CI_PIPELINE_IID') or env.get('CI_PIPELINE_ID', '')}"
                         f" {env.get('CI_JOB_NAME', '')}".rstrip(),
            "buildUrl": env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL", ""),
        })
        order = env.get("CI_PIPELINE_IID") or env.get("CI_PIPELINE_ID", "")
    elif env.get("JENKINS_URL") or env.get("BUILD_URL"):
        info.update({
            "type": "jenkins",
            "buildName": f"{env.get('JOB_NAME', 'job')} #{env.get('BUILD_NUMBER', '')}",
            "buildUrl": env.get("BUILD_URL", ""),
        })
        order = env.get("BUILD_NUMBER", "")
    else:
        order = ""
    if order.isdigit():
        info["buildOrder"] = int(order)
    return {k: v for k, v in info.items() if v != ""}


def write_context(
    summary: Mapping[str, Any],
    results_dir: Path,
    *,
    env: Mapping[str, str],
    redact: Redactor = identity,
) -> None:
    write_atomic(results_dir / "environment.properties", environment_properties(summary))
    write_atomic(results_dir / "categories.json", json.dumps(CATEGORIES, indent=2) + "\n")
    executor = {k: redact(v) if isinstance(v, str) else v
                for k, v in executor_info(summary, env).items()}
    write_atomic(
        results_dir / "executor.json", json.dumps(executor, indent=2, ensure_ascii=False) + "\n"
    )

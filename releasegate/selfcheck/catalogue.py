"""The defect catalogue: every broken variant of an application the self-checks build.

A variant is one JSON file in the application's ``variants/`` folder (applied in the image's
build stage by ``variants/apply.py`` when the ``VARIANT`` build argument names it)::

    {"description": "what is broken, in one sentence",
     "expect": ["CRITERION-ID", ...],      # every criterion it must turn red
     "also_breaks": ["..."],              # criteria it breaks whose suite does not exist yet
     "gate": ["--suite", "deploy", "--", "-k", "health"],   # the focused gate that shows it
     "fast": true,                         # also part of `make test` (default: selfcheck only)
     "build_args": {"NAME": "value"},      # a defect of the image recipe rather than the source
     "source_copy": true,                  # judged from the source, not the image (static
                                           # analysis): the gate reads a patched copy
     "edits": [{"file": "...", "find": "...", "replace": "..."}]}

Adding a variant is adding that one file: the index, the detection matrix and the self-tests
all read the folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.config.profile import Profile
from releasegate.criteria import catalog
from releasegate.errors import ConfigError

SUITE_FLAG = "--suite"


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    expect: tuple[str, ...]
    gate: tuple[str, ...]
    also_breaks: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    fast: bool = False
    source_copy: bool = False

    @property
    def suites(self) -> tuple[str, ...]:
        """The suites its focused gate runs (every ``--suite`` before a ``--``)."""
        head = self.gate[: self.gate.index("--")] if "--" in self.gate else self.gate
        return tuple(head[i + 1] for i, arg in enumerate(head[:-1]) if arg == SUITE_FLAG)

    def run_arguments(self) -> list[str]:
        """``releasegate run`` arguments that build this variant and run its focused gate."""
        pairs = {"VARIANT": self.name, **self.build_args}
        build = [arg for key, value in pairs.items()
                 for arg in ("--set", f"services.app.build.args.{key}={value}")]
        return [*build, *self.gate]


def load_variant(path: Path) -> Variant:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable variant: {exc}",
                          hint="fix the JSON") from None
    where = f"{path}"
    expect = tuple(str(c) for c in data.get("expect") or [])
    unknown = [c for c in (*expect, *data.get("also_breaks", [])) if c not in catalog.BY_ID]
    if unknown:
        raise ConfigError(f"{where}: unknown criterion IDs {unknown}",
                          hint="use IDs from the documented catalogue")
    if not expect:
        raise ConfigError(f"{where}: a variant must name at least one criterion in expect",
                          hint="a defect nobody is expected to catch proves nothing")
    gate = data.get("gate")
    if not isinstance(gate, list) or not gate or not all(isinstance(a, str) for a in gate):
        raise ConfigError(f"{where}: \"gate\" must list the focused gate's arguments",
                          hint='e.g. ["--suite", "deploy", "--", "-k", "health"]')
    return Variant(
        name=path.stem, description=str(data.get("description") or ""), expect=expect,
        gate=tuple(gate), also_breaks=tuple(str(c) for c in data.get("also_breaks") or []),
        build_args={str(k): str(v) for k, v in (data.get("build_args") or {}).items()},
        fast=bool(data.get("fast", False)), source_copy=bool(data.get("source_copy", False)),
    )


def source_arguments(variant: Variant, profile: Profile, workdir: Path) -> list[str]:
    """For a variant judged from the source: a patched copy of the build context, and the
    override that points the security section's source at it. Empty for the others."""
    if not variant.source_copy:
        return []
    build, source = profile.app.build, profile.section("security").source
    if build is None or source is None:
        raise ConfigError(f"variant {variant.name} is judged from the source, but the profile "
                          "names no build context or no [security] source",
                          hint="set [services.app.build] context and [security] source")
    # Absolute: a relative override would be read against the profile's folder.
    copy = (workdir / f"{variant.name}-source").resolve()
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(build.context, copy, ignore=shutil.ignore_patterns(
        ".venv", "__pycache__", ".pytest_cache", "*.egg-info", ".build-ca"))
    done = subprocess.run([sys.executable, str(copy / "variants" / "apply.py"), variant.name,
                           "--root", str(copy)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"variant {variant.name} does not apply to the source: "
                          f"{done.stderr.strip()[:300]}", hint="fix its edits")
    return ["--set", f"security.source={copy / source.relative_to(build.context)}"]


def load_catalogue(folder: Path) -> list[Variant]:
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no variants folder",
                          hint="pass --variants DIR (the application's variants/ folder)")
    return [load_variant(p) for p in sorted(folder.glob("*.json"))]


def render_index(variants: list[Variant]) -> str:
    """The catalogue as one Markdown page (variants/README.md), kept in step by a test."""
    lines = [
        "# Defect catalogue",
        "",
        "Every broken variant of the application that the self-checks build (generated by "
        "`releasegate selfcheck --index`; do not edit by hand). Adding a variant is adding one "
        "JSON file here; see `releasegate/selfcheck/catalogue.py` for its format.",
        "",
        "| variant | must turn red | suites | in `make test` | what is broken |",
        "|---|---|---|---|---|",
    ]
    for v in variants:
        red = ", ".join(v.expect) + (f" (later also: {', '.join(v.also_breaks)})"
                                     if v.also_breaks else "")
        cells = [f"`{v.name}`", red, ", ".join(v.suites) or "—", "yes" if v.fast else "—",
                 v.description.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    covered = sorted({c for v in variants for c in v.expect})
    lines += ["", f"{len(variants)} variants; {len(covered)} of {len(catalog.CRITERIA)} "
              "documented criteria have a variant that must turn them red.", ""]
    return "\n".join(lines)

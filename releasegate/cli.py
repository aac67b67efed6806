"""``releasegate``: run the gate, rebuild reports, provision images, clean up after dead runs.

Exit codes (also in README): 0 ready · 1 harness error · 2 a criterion failed ·
3 insufficient evidence or not run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

from releasegate import __version__
from releasegate.errors import ConfigError, HarnessError
from releasegate.gate import CLI_ENV, DURATIONS, SUITE_MARKERS, RunOptions, say

# pytest's configuration for a gate run, shipped with the package (see the file for why).
GATE_INI = Path(__file__).with_name("gate_pytest.ini")
# What `releasegate init` writes; a run without --profile picks it up from the current directory.
STARTER_PROFILE = Path("releasegate.toml")
# A source checkout runs its reference application when no profile is named.
CHECKOUT_PROFILE = Path(__file__).resolve().parent.parent / "profiles" / "rento.toml"


class _Parser(argparse.ArgumentParser):
    """A usage error is a harness error: one line and exit 1, never argparse's exit 2, which
    would read as "a criterion failed" to a CI job gating on the exit code."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"releasegate: usage error: {message} — see `{self.prog} --help`\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="releasegate", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"releasegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="stand the stack up, run the suites, judge, report")
    run.add_argument("--profile", type=Path, default=None,
                     help=f"the profile (default: ./{STARTER_PROFILE})")
    run.add_argument("--suite", action="append", choices=SUITE_MARKERS, default=[],
                     help="run only this suite (repeatable); the run is then partial")
    run.add_argument("--external", metavar="URL", help="test an already-deployed environment")
    run.add_argument("--dsn", help="database DSN of the external environment")
    run.add_argument("--container", action="append", default=[], metavar="ROLE=NAME",
                     help="container names of the external environment (app=…, db=…)")
    run.add_argument("--set", action="append", default=[], dest="overrides",
                     metavar="KEY=VALUE", help="override a profile value")
    run.add_argument("--reports-dir", type=Path, default=Path("reports"))
    run.add_argument("--workers", "-n", default="0",
                     help="pytest-xdist workers sharing the one stack (0 = in process)")
    run.add_argument("--no-html", action="store_true", help="skip the Allure HTML report")
    run.add_argument("--baseline", type=Path, default=None, metavar="SUMMARY_JSON",
                     help="compare with this run's summary.json (a release tag's, say) instead "
                          "of the previous run")
    run.add_argument("--regression-share", type=float, default=0.2, metavar="SHARE",
                     help="flag a measured value worse than the baseline by more than this "
                          "share, even under its limit (default 0.2)")
    run.add_argument("--durations", choices=DURATIONS, default="ci",
                     help="how long load, soak, stress, fuzzing and injection run: each suite's "
                          "profile section says what `ci` (default) and `release` mean")
    run.add_argument("--cell", action="append", default=[], metavar="pyX.Y-pgN",
                     help="run only this cell of the compatibility matrix (repeatable), e.g. "
                          "one per CI job; join the jobs' reports with `report --merge`")
    run.add_argument("--load-workers", type=_positive_int, default=None, metavar="N",
                     help="local Locust worker processes of the load, stress and soak suites "
                          "(default: one per core)")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --")

    report = sub.add_parser("report", help="rebuild every report from reports/summary.json, "
                            "or join several runs' with --merge")
    report.add_argument("--reports-dir", type=Path, default=Path("reports"))
    report.add_argument("--no-html", action="store_true")
    report.add_argument("--merge", nargs="+", type=Path, default=[], metavar="DIR",
                        help="reports folders of several runs (CI jobs) to join into one "
                             "verdict and one report in --reports-dir")

    clean = sub.add_parser("clean", help="remove containers and networks of dead runs")
    clean.add_argument("--all", action="store_true", help="also those of runs still alive")
    clean.add_argument("--run", help="only this run id")

    images = sub.add_parser("images", help="provision every image a profile needs, ahead")
    images.add_argument("--profile", type=Path, default=None)
    images.add_argument("--compat", action="store_true",
                        help="also every Python and PostgreSQL of the compatibility matrix")
    images.add_argument("--jobs", "-j", type=int, default=2,
                        help="Debian suites built side by side (default 2)")

    check = sub.add_parser("selfcheck", help="run every broken variant of the application "
                           "through the gate that should catch it: the detection matrix")
    check.add_argument("--profile", type=Path, default=None)
    check.add_argument("--variants", type=Path, default=None,
                       help="the variants folder (default: variants/ in the app's build context)")
    check.add_argument("--only", action="append", default=[], metavar="NAME",
                       help="only this variant (repeatable)")
    check.add_argument("--fast", action="store_true",
                       help="only the variants marked fast (the subset `make test` runs)")
    check.add_argument("--index", action="store_true",
                       help="write the catalogue's index (variants/README.md) and stop")
    check.add_argument("--reports-dir", type=Path, default=Path("reports"))

    repeat = sub.add_parser("repeat", help="run the same gate N times: the verdicts must agree; "
                            "the spread of every measured value is reported")
    repeat.add_argument("--runs", type=int, default=5)
    repeat.add_argument("--reports-dir", type=Path, default=Path("reports"))
    repeat.add_argument("run_args", nargs="*",
                        help="`releasegate run` arguments, after --: --profile, --suite, …")

    init = sub.add_parser("init", help="write a commented starter profile for an application")
    init.add_argument("--openapi", required=True, metavar="URL_OR_FILE",
                      help="the application's OpenAPI document (a running app's URL, or a file)")
    init.add_argument("--dockerfile", required=True, type=Path, help="the app's Dockerfile")
    init.add_argument("--output", "-o", type=Path, default=STARTER_PROFILE,
                      help=f"where to write it (default: {STARTER_PROFILE}; never overwritten)")
    return parser


def suites_dir() -> Path:
    """The suites as installed: the releasegate.suites package's folder, wherever that is
    (site-packages for a wheel, the repository's suites/ for an editable install)."""
    import releasegate.suites

    return Path(next(iter(releasegate.suites.__path__))).resolve()


def default_profile() -> Path:
    for candidate in (STARTER_PROFILE, CHECKOUT_PROFILE):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no --profile given and there is no {STARTER_PROFILE} in {Path.cwd()}",
        hint="pass --profile PATH, or write a starter profile with "
        "`releasegate init --openapi URL --dockerfile PATH`",
    )


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line of a gate run: the installed suites, the plugin, and no
    configuration but the harness's own, whatever the working directory holds."""
    suites = suites_dir()
    pytest_args = [
        str(suites), f"--profile={args.profile}", f"--reports-dir={args.reports_dir}",
        # Only gate_pytest.ini is read; no conftest.py above the suites is loaded; node IDs are
        # suites/<suite>/test_….py for a wheel and a checkout alike.
        "-c", str(GATE_INI), f"--rootdir={suites.parent}", f"--confcutdir={suites}",
        # Autoloading is off (see cmd_run), so the plugin is named: it is the gate.
        "-p", "releasegate.pytest_plugin", "-p", "no:cacheprovider", "-rfEs",
    ]
    for item in args.overrides:
        pytest_args += ["--set", item]
    if args.external:
        pytest_args += ["--external", args.external]
    if args.dsn:
        pytest_args += ["--dsn", args.dsn]
    for item in args.container:
        pytest_args += ["--container", item]
    if args.suite:
        pytest_args += ["-m", " or ".join(args.suite)]
    if args.no_html:
        pytest_args.append("--no-html")
    pytest_args.append(f"--rg-durations={args.durations}")
    pytest_args.append(f"--regression-share={args.regression_share}")
    if args.baseline:
        pytest_args.append(f"--baseline={args.baseline}")
    if args.load_workers is not None:
        pytest_args.append(f"--rg-load-workers={args.load_workers}")
    if str(args.workers) != "0":
        pytest_args += ["-p", "xdist.plugin", "-n", str(args.workers)]
    return pytest_args + [str(a) for a in args.pytest_args]


def cell_overrides(cells: list[str]) -> list[str]:
    """``--cell`` is the profile's ``[compat] cells``, so pytest runs and CLI runs agree."""
    return [f"compat.cells={json.dumps(cells)}"] if cells else []


def cmd_run(args: argparse.Namespace) -> int:
    args.profile = args.profile or default_profile()
    args.overrides = [*args.overrides, *cell_overrides(args.cell)]
    options = RunOptions(
        profile_path=args.profile, overrides=args.overrides, reports_dir=args.reports_dir,
        external_url=args.external, dsn=args.dsn,
        containers=dict(c.split("=", 1) for c in args.container if "=" in c),
        html=not args.no_html, suites=args.suite, durations=args.durations,
        baseline=args.baseline, regression_share=args.regression_share,
    )
    options.load_profile()  # a broken profile fails here, in a second, before any container
    _usable_reports_dir(args.reports_dir)
    if args.baseline is not None:
        from releasegate.report.history import load_baseline

        load_baseline(args.baseline)
    pytest_args = pytest_arguments(args)

    import pytest

    # Every installed pytest plugin (locust's imports gevent) would load by itself: ~4 s of pure
    # overhead per run. The gate loads only what it uses: the releasegate plugin, named in the
    # arguments, and what it names in pytest_plugins.
    os.environ.setdefault("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    os.environ[CLI_ENV] = "1"

    started = time.time()
    code = int(pytest.main(pytest_args))
    summary = args.reports_dir / "summary.json"
    if not summary.is_file() or summary.stat().st_mtime < started:
        say(f"no report was written (pytest exit {code}): the run did not complete")
        return 1
    data = json.loads(summary.read_text())
    release = data["release"]
    # The last line a CI log shows: the verdict and the coverage it rests on.
    say(f"{release.get('headline') or release['verdict']} — exit {release['exit_code']}; "
        f"see {args.reports_dir / 'summary.md'}")
    return int(release["exit_code"])


def _usable_reports_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--reports-dir {path} is a file, not a folder",
                           hint="pass a folder (it is created if missing)")
    probe = path if path.exists() else next((p for p in path.parents if p.exists()), Path("."))
    if not os.access(probe, os.W_OK):
        raise ConfigError(f"--reports-dir {path} is not writable",
                           hint="pass a folder you can write to")


def cmd_report(args: argparse.Namespace) -> int:
    from releasegate.report.write import write_reports

    _usable_reports_dir(args.reports_dir)
    path = args.reports_dir / "summary.json"
    if args.merge:
        from releasegate.report.merge import copy_evidence, load_inputs, merge_summaries

        inputs = load_inputs(args.merge)
        summary = merge_summaries(inputs)
        copy_evidence(inputs, args.reports_dir)
        say(f"merged {len(inputs)} run(s): {summary['release']['headline']}")
    elif not path.is_file():
        raise HarnessError(f"{path} does not exist", hint="run `releasegate run` first")
    else:
        summary = json.loads(path.read_text())
    written = write_reports(summary, args.reports_dir, previous=None, html=not args.no_html,
                            progress=say)
    if "html" in written:
        from releasegate.criteria.release import ExitCode, ReleaseDecision
        from releasegate.gate import check_allure_gate

        release = summary["release"]
        check_allure_gate(args.reports_dir, ReleaseDecision(
            release["verdict"], ExitCode(int(release["exit_code"]))))
    return int(summary["release"]["exit_code"])


def cmd_clean(args: argparse.Namespace) -> int:
    from releasegate.stack import engine, labels

    client = engine.connect_engine(auto_install=False, progress=say)
    removed = labels.clean(client, run_id=args.run, include_live=args.all, progress=say)
    say(f"removed {removed} object(s)")
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    from releasegate.config.profile import load_profile
    from releasegate.stack import engine, images

    profile = load_profile(args.profile or default_profile())
    client = engine.connect_engine(auto_install=True, progress=say)
    recipes = []
    if profile.db is not None and profile.db.image is None:
        recipes.append(images.recipe_for_postgres(profile.db.version))
    if profile.app.build is not None and profile.app.build.python:
        recipes.append(images.recipe_for_python(profile.app.build.python))
    if args.compat:
        compat = profile.section("compat")
        recipes += [images.recipe_for_python(v) for v in compat.pythons]
        recipes += [images.recipe_for_postgres(v) for v in compat.postgres]
    started = time.monotonic()
    done = images.build_all(client, recipes, progress=say, workers=max(1, args.jobs))
    say(f"{len(done)} image(s) ready in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{i.tag} ({i.how}, {i.seconds:.0f} s)" for i in done))
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from releasegate.config.profile import load_profile
    from releasegate.report.html import generate_html
    from releasegate.selfcheck.catalogue import load_catalogue, render_index, source_arguments
    from releasegate.selfcheck.matrix import run_matrix
    from releasegate.selfcheck.report import headline, write_selfcheck

    profile_path = args.profile or default_profile()
    profile = load_profile(profile_path)
    folder = args.variants or (profile.app.build.context / "variants" if profile.app.build
                               else None)
    if folder is None:
        raise ConfigError(f"{profile_path}: the app is not built from a context, so it has no "
                          "variants folder", hint="pass --variants DIR")
    variants = load_catalogue(folder)
    if args.index:
        path = folder / "README.md"
        path.write_text(render_index(variants), encoding="utf-8")
        say(f"wrote {path} ({len(variants)} variants)")
        return 0
    unknown = sorted(set(args.only) - {v.name for v in variants})
    if unknown:
        raise ConfigError(f"unknown variant(s) {unknown}",
                          hint=f"known: {', '.join(v.name for v in variants)}")
    chosen = [v for v in variants if (not args.only or v.name in args.only)
              and (v.fast or not args.fast)]
    _usable_reports_dir(args.reports_dir)
    workdir = args.reports_dir / "selfcheck" / "sources"
    matrix = run_matrix(profile_path, chosen, args.reports_dir / "selfcheck", say,
                        extra=lambda v: source_arguments(v, profile, workdir))
    written = write_selfcheck(matrix, args.reports_dir)
    generate_html(args.reports_dir / "selfcheck", say, report_name=headline(matrix))
    say(f"{headline(matrix)}; see {written['md']}")
    return 0 if matrix.passed else 2


def cmd_repeat(args: argparse.Namespace) -> int:
    from releasegate.selfcheck.repeat import run_repeatedly, write_repeatability

    if args.runs < 2:
        raise ConfigError(f"--runs {args.runs}: repeatability needs at least 2 runs",
                          hint="use --runs 5 or more")
    _usable_reports_dir(args.reports_dir)
    result = run_repeatedly(args.runs, args.run_args, args.reports_dir, say)
    path = write_repeatability(result, args.reports_dir)
    unstable = sorted(cid for cid, s in result.spreads.items() if s.unstable)
    say(f"{'the same verdicts in every run' if result.verdicts_agree else 'VERDICTS DIFFER'} "
        f"over {args.runs} runs" + (f"; unstable: {', '.join(unstable)}" if unstable else "")
        + f"; see {path}")
    return 0 if result.verdicts_agree else 2


def cmd_init(args: argparse.Namespace) -> int:
    from releasegate.config.starter_profile import write_starter

    written = write_starter(args.openapi, args.dockerfile, args.output)
    print(f"wrote {written}: confirm every '# check:' line, then run "
          f"`releasegate run --profile {written}`")
    return 0


COMMANDS = {"run": cmd_run, "report": cmd_report, "clean": cmd_clean, "images": cmd_images,
            "init": cmd_init, "selfcheck": cmd_selfcheck, "repeat": cmd_repeat}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except HarnessError as exc:
        print(f"releasegate: {exc.category}: {exc.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("releasegate: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

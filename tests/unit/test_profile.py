"""Profiles are validated up front, with the file, the key and the fix in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from releasegate.config.profile import load_profile, parse_profile
from releasegate.criteria import catalog
from releasegate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
MINIMAL = """
[profile]
name = "demo"
[services.app]
kind = "app"
image = "demo:1"
port = 8080
{extra_app}
[thresholds."FUNC-HEALTH"]
{extra_threshold}
"""


def write(tmp_path: Path, extra_app: str = "", extra_threshold: str = "", tail: str = "") -> Path:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL.format(extra_app=extra_app, extra_threshold=extra_threshold) + tail)
    return path


def error_of(path: Path, **kw: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_profile(path, **kw)  # type: ignore[arg-type]
    return info.value.one_line()


def test_reference_profile_loads() -> None:
    profile = load_profile(REPO / "profiles" / "rento.toml")
    assert profile.app.build is not None and profile.db is not None
    assert "FUNC-HEALTH" in profile.thresholds


def test_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path))
    assert profile.app.port == 8080 and profile.thresholds["FUNC-HEALTH"].limit == 0


def test_broken_toml(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[profile\nname=")
    assert "not valid TOML" in error_of(path)


def test_missing_file(tmp_path: Path) -> None:
    assert "profile not found" in error_of(tmp_path / "nope.toml")


def test_unknown_key_names_the_key_and_a_guess(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, extra_app='helth_path = "/h"'))
    assert "services.app.helth_path: unknown key" in message
    assert "health_path" in message


def test_unknown_criterion_suggests_the_documented_id(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."FUNC-HEALTHY"]\n'))
    assert "unknown criterion ID 'FUNC-HEALTHY'" in message and "FUNC-HEALTH" in message


def test_looser_limit_without_waiver_is_an_error(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."PERF-API-P95"]\nlimit = 1500\n'))
    assert "PERF-API-P95.limit: looser than documented" in message and "waiver" in message


def test_fewer_samples_without_waiver_is_an_error(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."REL-SUCCESS-RATE"]\nmin_samples = 10\n'))
    assert "min_samples 10 vs documented 30000" in message


def test_non_blocking_severity_needs_a_waiver(tmp_path: Path) -> None:
    assert "severity" in error_of(write(tmp_path, extra_threshold='severity = "minor"'))


def test_looser_limit_with_waiver_is_accepted(tmp_path: Path) -> None:
    tail = ('[thresholds."PERF-CONCURRENCY"]\nlimit = 500\n'
            'waiver = { reason = "2-core CI machine", expires = 2027-01-31 }\n')
    profile = load_profile(write(tmp_path, tail=tail))
    waiver = profile.thresholds["PERF-CONCURRENCY"].waiver
    assert waiver is not None and waiver.expires == date(2027, 1, 31)


def test_tighter_limit_is_fine(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, tail='[thresholds."PERF-API-P95"]\nlimit = 200\n'))
    assert profile.thresholds["PERF-API-P95"].limit == 200


def test_wrong_type_is_precise(tmp_path: Path) -> None:
    assert "services.app.port: expected int, got str" in error_of(
        write(tmp_path).parent / "p.toml" if False else _wrong_port(tmp_path))


def _wrong_port(tmp_path: Path) -> Path:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("port = 8080", 'port = "8080"'))
    return path


def test_missing_dockerfile(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace('image = "demo:1"',
                                             '[services.app.build]\ncontext = "nowhere"'))
    # the build table must come last in its section for TOML; rebuild the profile accordingly
    text = MINIMAL.format(extra_app="", extra_threshold="").replace('image = "demo:1"\n', "")
    text = text.replace("port = 8080\n", 'port = 8080\nbuild = { context = "nowhere" }\n')
    path.write_text(text)
    assert "Dockerfile does not exist" in error_of(path)


def test_overrides_apply_before_validation(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path), overrides=["stack.health_timeout_s=12"])
    assert profile.health_timeout_s == 12
    assert "unknown key" in error_of(write(tmp_path), overrides=["stack.bogus=1"])


def test_external_provider_needs_a_target(tmp_path: Path) -> None:
    path = write(tmp_path, tail='[stack]\nprovider = "external"\n')
    assert "no [external] table" in error_of(path)


def test_an_external_environment_is_not_disrupted_unless_its_profile_allows_it(
    tmp_path: Path,
) -> None:
    external = '[stack]\nprovider = "external"\n[external]\nbase_url = "http://127.0.0.1:1"\n'
    refused = load_profile(write(tmp_path, tail=external))
    assert refused.external is not None and refused.external.allow_disruption is False
    assert "allow_disruption = true" in refused.disruption_refusal()
    allowed = load_profile(write(tmp_path, tail=external + "allow_disruption = true\n"))
    assert allowed.disruption_refusal() == ""
    assert load_profile(write(tmp_path)).disruption_refusal() == ""  # the run's own containers
    assert "expected bool" in error_of(write(tmp_path, tail=external +
                                             'allow_disruption = "yes"\n'))
    # --external URL on the command line keeps what the profile allows.
    from releasegate.gate import RunOptions

    options = RunOptions(write(tmp_path, tail=external + "allow_disruption = true\n"),
                         external_url="http://127.0.0.1:2")
    assert options.load_profile().disruption_refusal() == ""


def test_exactly_one_app(tmp_path: Path) -> None:
    data = {"profile": {"name": "x"}, "services": {},
            "thresholds": {"FUNC-HEALTH": {}}}
    with pytest.raises(ConfigError, match="found 0 services of kind 'app'"):
        parse_profile(data, file=tmp_path / "x.toml", today=date(2026, 11, 21))


def test_the_documented_catalogue_is_required_by_default(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL.format(extra_app="", extra_threshold="")
                    .replace('[thresholds."FUNC-HEALTH"]\n', ""))
    profile = load_profile(path)
    assert list(profile.thresholds) == [c.id for c in catalog.CRITERIA]
    assert len(profile.thresholds) == 45


def test_an_exclusion_drops_a_criterion_with_its_reason(tmp_path: Path) -> None:
    path = write(tmp_path, tail='[exclude."COMPAT-BROWSER"]\n'
                                'reason = "the service serves no HTML"\napproved_by = "qa lead"\n')
    profile = load_profile(path, today=date(2026, 11, 21))
    assert "COMPAT-BROWSER" not in profile.thresholds
    assert profile.exclusions["COMPAT-BROWSER"].reason == "the service serves no HTML"
    assert len(profile.thresholds) == 44


def test_an_expired_exclusion_requires_the_criterion_again(tmp_path: Path) -> None:
    path = write(tmp_path, tail='[exclude."COMPAT-BROWSER"]\n'
                                'reason = "the service serves no HTML"\nexpires = 2026-01-01\n')
    profile = load_profile(path, today=date(2026, 11, 21))
    assert "COMPAT-BROWSER" in profile.thresholds
    assert "COMPAT-BROWSER" in profile.exclusions


@pytest.mark.parametrize(("tail", "message"), [
    ('[exclude."COMPAT-BROWSR"]\nreason = "no HTML pages at all"\n',
     "did you mean 'COMPAT-BROWSER'"),
    ('[exclude."COMPAT-BROWSER"]\nreason = "no"\n', "needs a real reason"),
    ('[exclude."COMPAT-BROWSER"]\n', "exclude.COMPAT-BROWSER.reason: missing required key"),
    ('[exclude."FUNC-HEALTH"]\nreason = "the app has no health endpoint"\n',
     "both tuned here and excluded"),
])
def test_bad_exclusions_are_errors(tmp_path: Path, tail: str, message: str) -> None:
    assert message in error_of(write(tmp_path, tail=tail))


@pytest.mark.parametrize(("options", "message"), [
    ("options = { outage_seconds = 5 }", "FUNC-HEALTH has no option 'outage_seconds' — did you "
                                         "mean 'outage_s'?"),
    ('options = { outage_s = "5" }', "expected float, got str"),
    ("options = { outage_s = 0 }", "below the minimum"),
    ("options = { outage_s = 60 }", "looser than documented (option outage_s = 60.0 vs "
                                    "documented 20.0)"),
])
def test_options_are_typed_bounded_and_never_looser_unwaived(
    tmp_path: Path, options: str, message: str
) -> None:
    assert message in error_of(write(tmp_path, extra_threshold=options))


def test_a_stricter_option_is_fine_and_defaults_fill_the_rest(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, extra_threshold="options = { outage_s = 5 }"))
    assert profile.thresholds["FUNC-HEALTH"].option("outage_s") == 5.0
    assert profile.thresholds["FUNC-ERROR-HANDLING"].option("body_fields") == {
        "code": "code", "message": "message", "request_id": "request_id"}


def test_fewer_body_fields_is_a_loosening(tmp_path: Path) -> None:
    tail = ('[thresholds."FUNC-ERROR-HANDLING"]\n'
            'options = { body_fields = { message = "detail", request_id = "trace" } }\n')
    assert "option body_fields" in error_of(write(tmp_path, tail=tail))


def test_body_fields_name_the_applications_own_fields(tmp_path: Path) -> None:
    tail = ('[thresholds."FUNC-ERROR-HANDLING"]\noptions = { body_fields = { code = "error", '
            'message = "detail", request_id = "correlation_id" } }\n')
    profile = load_profile(write(tmp_path, tail=tail))
    assert profile.option("FUNC-ERROR-HANDLING", "body_fields")["request_id"] == "correlation_id"


def test_a_waiver_with_nothing_to_loosen_is_an_error(tmp_path: Path) -> None:
    extra = 'waiver = { reason = "known flaky on CI runners", expires = 2099-01-01 }'
    assert "a waiver with nothing to loosen" in error_of(write(tmp_path, extra_threshold=extra))


def test_an_expired_waiver_reverts_loosened_options(tmp_path: Path) -> None:
    extra = ('options = { outage_s = 60 }\n'
             'waiver = { reason = "slow failover on this host", expires = 2026-01-01 }')
    profile = load_profile(write(tmp_path, extra_threshold=extra), today=date(2026, 11, 21))
    assert profile.thresholds["FUNC-HEALTH"].option("outage_s") == 20.0


def test_unknown_criterion_key_path_has_no_dangling_dot(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."FUNC-HEALTHY"]\n'))
    assert 'thresholds.FUNC-HEALTHY: unknown criterion' in message


def test_a_misspelt_probe_is_an_error(tmp_path: Path) -> None:
    tail = '[probes.server_eror]\npath = "/boom"\n'
    assert "unknown probe 'server_eror' — did you mean 'server_error'?" in error_of(
        write(tmp_path, tail=tail))


def test_unknown_probe_keys_are_errors(tmp_path: Path) -> None:
    tail = '[probes.server_error]\npath = "/boom"\nmethdo = "POST"\n'
    assert "probes.server_error.methdo: unknown key" in error_of(write(tmp_path, tail=tail))


def test_security_waivers_need_an_expiry_and_a_reason(tmp_path: Path) -> None:
    tail = ('[security]\nsource = "."\n[[security.waivers]]\nrule = "B608"\n'
            'reason = "constant table name only"\n')
    assert "security.waivers[0].expires: missing required key" in error_of(
        write(tmp_path, tail=tail))
    (tmp_path / "waivers.toml").write_text(
        '[[waiver]]\nrule = "B105"\nreason = "a test fixture password"\nexpires = 2027-01-01\n'
        'location = "tests/*"\n')
    profile = load_profile(write(tmp_path, tail='[security]\nwaivers_file = "waivers.toml"\n'))
    waivers = profile.section("security").waivers
    assert [(w.rule, w.location) for w in waivers] == [("B105", "tests/*")]


def test_sections_have_defaults_when_absent(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path))
    assert profile.section("security").waivers == ()


# -- any application from its profile --------------------------------------------------------

def _built(tmp_path: Path, tail: str = "") -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    text = MINIMAL.format(extra_app="", extra_threshold="").replace(
        'image = "demo:1"\n',
        'build = { context = ".", python = "3.11", args = { VERSION = "1.0" } }\n')
    path = tmp_path / "p.toml"
    path.write_text(text + tail)
    return path


def test_set_keeps_a_string_key_as_typed(tmp_path: Path) -> None:
    profile = load_profile(_built(tmp_path), overrides=[
        "services.app.build.python=3.10", "services.app.build.args.VERSION=2.10",
        "stack.health_timeout_s=30"])
    assert profile.app.build is not None
    assert profile.app.build.python == "3.10"
    assert profile.app.build.args["VERSION"] == "2.10"
    assert profile.health_timeout_s == 30  # a number where the schema says number


def test_login_recipe_keys_and_defaults(tmp_path: Path) -> None:
    tail = ('[login]\npath = "/token"\nbody_format = "form"\nusername = "admin"\n'
            'password = "{secret.pw}"\ntoken_path = "data.token"\nheader = "X-Auth"\n'
            'scheme = ""\n')
    login = load_profile(write(tmp_path, tail=tail)).login
    assert login is not None
    assert (login.method, login.body_format, login.token_path, login.header, login.scheme) == (
        "POST", "form", "data.token", "X-Auth", "")
    assert login.body == {"username": "{login.username}", "password": "{login.password}"}


@pytest.mark.parametrize(("tail", "message"), [
    ('[login]\npath = "/l"\ntoken_field = "t"\nusername = "a"\npassword = "b"\n',
     "login.token_field: renamed: token_path (a dotted JSON path"),
    ('[login]\npath = "/l"\npassword = "b"\n',
     "login.username: the body uses {login.username} but username is not set"),
    ('[login]\npath = "/l"\nbody_format = "form"\nbody = { a = { b = 1 } }\n',
     "login.body.a: a form-encoded body holds plain values only"),
    ('[login]\npath = "/l"\nbody_format = "xml"\n', "login.body_format: 'xml' is not allowed"),
])
def test_login_recipe_errors(tmp_path: Path, tail: str, message: str) -> None:
    assert message in error_of(write(tmp_path, tail=tail))


def test_log_settings_and_request_id_header(tmp_path: Path) -> None:
    extra = ('request_id_header = "X-Trace-Id"\nlog_file = "/var/log/app.log"\n'
             '[services.app.logs]\nsource = "file"\nformat = "text"\n'
             "pattern = '^(?P<level>[A-Z]+) (?P<message>.*)$'\n")
    profile = load_profile(write(tmp_path, extra_app=extra))
    assert profile.app.request_id_header == "X-Trace-Id"
    assert (profile.app.logs.source, profile.app.logs.format) == ("file", "text")
    assert load_profile(write(tmp_path)).app.logs.source == "stdout"  # today's default


@pytest.mark.parametrize(("extra", "message"), [
    ('[services.app.logs]\nsource = "file"\n', 'log_file: logs.source is "file" but no log_file'),
    ('[services.app.logs]\nformat = "text"\n', "services.app.logs.pattern: text logs need a "
                                               "pattern"),
    ("[services.app.logs]\nformat = \"text\"\npattern = '^(?P<lvl>\\\\w+)'\n",
     "has no (?P<level>...) group"),
    ("[services.app.logs]\npattern = '^x'\n", 'a pattern applies to format = "text" only'),
])
def test_log_settings_errors(tmp_path: Path, extra: str, message: str) -> None:
    assert message in error_of(write(tmp_path, extra_app=extra))


def test_alerts_request_id_path(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, tail='[alerts]\nrequest_id_path = "labels.rid"\n'))
    assert profile.alerts.request_id_path == "labels.rid"
    assert load_profile(write(tmp_path)).alerts.request_id_path == "request_id"
    assert "alerts.request_id: unknown key" in error_of(
        write(tmp_path, tail='[alerts]\nrequest_id = "x"\n'))


def test_commands_short_and_long_form(tmp_path: Path) -> None:
    tail = ('[commands]\nmigrate = ["tool", "up", "{scratch.url}"]\n'
            '[commands.migration_current]\nargv = ["alembic", "current"]\n'
            'env = { DB_HOST = "{scratch.host}", DB_PORT = "{scratch.port}" }\n')
    commands = load_profile(write(tmp_path, tail=tail)).commands
    assert commands["migrate"].argv == ["tool", "up", "{scratch.url}"]
    assert commands["migrate"].env == {}
    assert commands["migration_current"].env == {"DB_HOST": "{scratch.host}",
                                                 "DB_PORT": "{scratch.port}"}
    bad = '[commands.migrate]\nargv = ["x"]\nenviron = { A = "1" }\n'
    assert "commands.migrate.environ: unknown key" in error_of(write(tmp_path, tail=bad))


def test_stack_prepare_names_commands(tmp_path: Path) -> None:
    bad = write(tmp_path, tail='[commands]\nseed = ["app", "seed"]\n').read_text().replace(
        '[profile]\nname = "demo"', '[profile]\nname = "demo"\n[stack]\nprepare = ["sed"]')
    (tmp_path / "bad.toml").write_text(bad)
    assert "stack.prepare: ['sed'] are not in [commands]" in error_of(tmp_path / "bad.toml")
    (tmp_path / "good.toml").write_text(bad.replace('prepare = ["sed"]', 'prepare = ["seed"]'))
    assert load_profile(tmp_path / "good.toml").prepare == ("seed",)

"""The ``[security]`` sub-tables of the static, image and container checks: defaults when absent,
strict about keys and values, a looser advisory-database age only with a waiver."""

from __future__ import annotations

from pathlib import Path

from releasegate.config.profile import load_profile
from releasegate.config.sections.security_checks import WELL_KNOWN_DEFAULTS
from tests.unit.test_profile import REPO, error_of, write


def test_defaults_when_the_profile_says_nothing(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path))
    security = profile.section("security")
    assert security.deps.advisory_db is None and security.deps.versions_from == "image"
    assert security.secrets.required is None
    assert security.secrets.default_values == WELL_KNOWN_DEFAULTS
    assert security.pii.requests == () and security.backup.directory is None
    assert security.hardening.read_only_rootfs is False
    assert profile.option("SEC-DEPS", "advisory_db_max_age_days") == 90


def test_sub_tables_are_read_and_paths_resolved_from_the_profile(tmp_path: Path) -> None:
    tail = """
[security]
source = "src"
source_exclude = ["tests"]
[security.deps]
advisory_db = "mirror/advisory-db"
versions_from = "lock_file"
lock_file = "requirements.txt"
[security.secrets]
required = ["APP_KEY"]
production_env = { APP_ENV = "production" }
[[security.pii.requests]]
method = "POST"
path = "/people"
body = { phone = "{pii.phone}" }
expect = 201
[security.hardening]
read_only_rootfs = true
allowed_capabilities = ["net_bind_service"]
[security.backup]
directory = "/var/backups/app"
"""
    security = load_profile(write(tmp_path, tail=tail)).section("security")
    assert security.deps.advisory_db == (tmp_path / "mirror/advisory-db").resolve()
    assert security.deps.lock_file == (tmp_path / "requirements.txt").resolve()
    assert security.secrets.required == ("APP_KEY",)
    assert security.secrets.weak_defaults is None
    assert security.secrets.production_env == {"APP_ENV": "production"}
    assert security.pii.requests[0].body == {"phone": "{pii.phone}"}
    assert security.hardening.allowed_capabilities == ("NET_BIND_SERVICE",)
    assert security.source_exclude == ("tests",)


def test_mistakes_name_the_key(tmp_path: Path) -> None:
    cases = {
        '[security.deps]\nadvisory_dbs = "x"\n': "security.deps.advisory_dbs: unknown key",
        '[security.deps]\nversions_from = "lock_file"\n': "versions_from = \"lock_file\" needs",
        '[security.deps]\npip_audit = "always"\n': "security.deps.pip_audit: 'always' is not",
        '[security.secrets]\ndefault_values = []\n': "security.secrets.default_values: an empty",
        '[[security.pii.requests]]\nmethod = "FETCH"\npath = "/x"\n':
            "security.pii.requests[0].method: 'FETCH' is not allowed",
        '[[security.pii.requests]]\nmethod = "POST"\npath = "x"\n':
            "security.pii.requests[0].path: 'x' is not a path",
        '[security.backup]\ndirectory = "backups"\n': "is not an absolute path",
        '[security.db_tls]\nrefusal_timeout_s = 0\n': "refusal_timeout_s: 0 is out of range",
    }
    for tail, message in cases.items():
        assert message in error_of(write(tmp_path, tail=tail)), tail


def test_an_older_advisory_database_is_a_loosening_that_needs_a_waiver(tmp_path: Path) -> None:
    tail = '[thresholds."SEC-DEPS"]\noptions = { advisory_db_max_age_days = 900 }\n'
    assert "looser than documented" in error_of(write(tmp_path, tail=tail))
    waived = tail + ('waiver = { reason = "mirror refreshed quarterly only", '
                     'expires = 2099-01-01 }\n')
    profile = load_profile(write(tmp_path, tail=waived))
    assert profile.option("SEC-DEPS", "advisory_db_max_age_days") == 900


def test_the_reference_profile_describes_rento_for_the_security_checks() -> None:
    security = load_profile(REPO / "profiles" / "rento.toml").section("security")
    assert security.source is not None and security.source.is_dir()
    assert {w.rule for w in security.waivers} == {"B608", "positive_data_acceptance"}
    assert security.secrets.required == ("RENTO_SECRET_KEY", "DATABASE_URL")
    assert security.backup.directory == "/app/backups" and security.pii.requests

"""Image recipes, cache decisions, registry-offline memory and debootstrap command lines.

Fast and engine-free: the engine is a fake object, builds are replaced by recorders.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.errors import APIError, ImageNotFound

from releasegate.errors import ConfigError, EnvironmentProblem
from releasegate.stack import images, rootfs
from releasegate.stack.images import ImageRecipe


@pytest.fixture(autouse=True)
def _fresh_registry_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    images.reset_registry_state()
    monkeypatch.setattr(images, "LOCK_DIR", tmp_path / "locks")
    yield
    images.reset_registry_state()


def quiet(_: str) -> None:
    pass


# --- recipes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("major", "suite", "upstream"),
    [(13, "bullseye", "postgres:13-bullseye"), (15, "bookworm", "postgres:15-bookworm"),
     (17, "trixie", "postgres:17-trixie"), (18, "forky", "postgres:18-trixie")],
)
def test_postgres_recipes_follow_the_debian_matrix(major: int, suite: str, upstream: str) -> None:
    recipe = images.recipe_for_postgres(major)
    assert recipe.name == f"releasegate/postgres:{major}-{suite}"
    assert recipe.kind == "postgres"
    assert recipe.debian_suite == suite
    assert recipe.upstream == upstream
    assert f"postgresql-{major}" in recipe.packages and "openssl" in recipe.packages
    assert recipe.expose == (5432,)
    assert dict(recipe.env)["PATH"].startswith(f"/usr/lib/postgresql/{major}/bin:")
    assert dict(recipe.env)["LANG"] == "C.UTF-8"


@pytest.mark.parametrize(
    ("version", "suite", "upstream"),
    [("3.9", "bullseye", "python:3.9-slim-bullseye"),
     ("3.11", "bookworm", "python:3.11-slim-bookworm"),
     ("3.13", "trixie", "python:3.13-slim-trixie"), ("3.14", "forky", "python:3.14-slim-trixie")],
)
def test_python_recipes_follow_the_debian_matrix(version: str, suite: str, upstream: str) -> None:
    recipe = images.recipe_for_python(version)
    assert recipe.name == f"releasegate/python:{version}-{suite}"
    assert recipe.debian_suite == suite
    assert recipe.upstream == upstream
    for pkg in ("python3", "python3-venv", "postgresql-client", "ca-certificates"):
        assert pkg in recipe.packages


def test_unknown_versions_name_the_supported_ones() -> None:
    with pytest.raises(ConfigError) as pg:
        images.recipe_for_postgres(16)
    assert "PostgreSQL 16" in pg.value.message
    assert all(str(v) in pg.value.hint for v in (13, 15, 17, 18))
    with pytest.raises(ConfigError) as py:
        images.recipe_for_python("3.12")
    assert all(v in py.value.hint for v in ("3.9", "3.11", "3.13", "3.14"))


def test_recipe_hash_is_stable_and_follows_every_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg = images.recipe_for_postgres(15)
    assert pg.recipe_hash() == images.recipe_for_postgres(15).recipe_hash()
    assert pg.recipe_hash() != images.recipe_for_postgres(17).recipe_hash()
    more = ImageRecipe(**{**pg.__dict__, "packages": (*pg.packages, "less")})
    assert more.recipe_hash() != pg.recipe_hash()
    # The entrypoint copied into the image is part of the recipe.
    entry = tmp_path / "docker-entrypoint.sh"
    entry.write_text("#!/bin/sh\nexec \"$@\"\n")
    monkeypatch.setattr(images, "ENTRYPOINT_FILE", entry)
    first = pg.recipe_hash()
    entry.write_text("#!/bin/sh\necho changed\nexec \"$@\"\n")
    assert pg.recipe_hash() != first


def test_recipe_format_changes_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    before = images.recipe_for_python("3.11").recipe_hash()
    monkeypatch.setattr(images, "RECIPE_FORMAT", images.RECIPE_FORMAT + 1)
    assert images.recipe_for_python("3.11").recipe_hash() != before


def test_changes_and_the_ones_docker_import_cannot_apply() -> None:
    changes = images.recipe_for_postgres(15).changes()
    assert 'ENTRYPOINT ["docker-entrypoint.sh"]' in changes
    assert 'CMD ["postgres"]' in changes
    assert "EXPOSE 5432" in changes
    assert "ENV LANG=C.UTF-8" in changes
    direct, later = images.split_changes([*changes, 'LABEL releasegate.recipe="x"'])
    assert later == ["STOPSIGNAL SIGINT"]
    assert 'LABEL releasegate.recipe="x"' in direct
    assert images.recipe_for_python("3.11").changes()[-1] == 'CMD ["python3"]'


def test_split_reference() -> None:
    assert images.split_reference("postgres:15-bookworm") == ("postgres", "15-bookworm")
    assert images.split_reference("localhost:5000/x/y") == ("localhost:5000/x/y", "latest")
    assert images.split_reference("localhost:5000/x/y:1") == ("localhost:5000/x/y", "1")


def test_derived_dockerfile_adds_what_the_official_images_lack() -> None:
    pg = images.derived_dockerfile(images.recipe_for_postgres(15), "postgres:15-bookworm")
    assert pg.startswith("FROM postgres:15-bookworm\n")
    assert "COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" in pg
    assert "openssl" in pg and "STOPSIGNAL SIGINT" in pg
    py = images.derived_dockerfile(images.recipe_for_python("3.11"), "python:3.11-slim-bookworm")
    assert "postgresql-client" in py and "COPY" not in py


# --- cache -------------------------------------------------------------------------------------


def test_cache_decision() -> None:
    assert images.cache_decision(None, "abc") == "absent"
    assert images.cache_decision({images.LABEL_RECIPE: "abc"}, "abc") == "reuse"
    assert images.cache_decision({images.LABEL_RECIPE: "old"}, "abc") == "rebuild"
    assert images.cache_decision({}, "abc") == "rebuild"


class FakeImage:
    def __init__(self, ident: str, labels: dict[str, str] | None) -> None:
        self.id = ident
        self.attrs = {"Config": {"Labels": labels}}


class FakeImages:
    def __init__(self, present: dict[str, FakeImage]) -> None:
        self.present = present
        self.gets: list[str] = []

    def get(self, ref: str) -> FakeImage:
        self.gets.append(ref)
        if ref not in self.present:
            raise ImageNotFound(f"No such image: {ref}")
        return self.present[ref]


class FakeApi:
    def __init__(self, error: str | None = None, hang: bool = False) -> None:
        self.error = error
        self.hang = hang
        self.pulls: list[tuple[str, str]] = []

    def pull(self, repo: str, tag: str, stream: bool, decode: bool) -> Iterator[dict[str, Any]]:
        self.pulls.append((repo, tag))
        if self.hang:
            threading.Event().wait(5)
        if self.error:
            raise APIError(f"500 Server Error: {self.error}")
        yield {"status": "Pulling from library/" + repo}
        yield {"status": "Download complete"}


class FakeClient:
    def __init__(self, present: dict[str, FakeImage], api: FakeApi | None = None) -> None:
        self.images = FakeImages(present)
        self.api = api or FakeApi()


@pytest.fixture
def recorded_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace both build paths by recorders that 'create' the image with the right label."""
    calls: list[str] = []

    def offline(client: FakeClient, recipe: ImageRecipe, progress: Any) -> dict[str, str]:
        calls.append("offline")
        client.images.present[recipe.name] = FakeImage(
            "sha256:new", {images.LABEL_RECIPE: recipe.recipe_hash()}
        )
        return {"python_version": "3.11.2"}

    def upstream(
        client: FakeClient, recipe: ImageRecipe, base: str, progress: Any, origin: str
    ) -> dict[str, str]:
        calls.append(f"upstream:{base}:{origin}")
        client.images.present[recipe.name] = FakeImage(
            "sha256:derived", {images.LABEL_RECIPE: recipe.recipe_hash()}
        )
        return {}

    monkeypatch.setattr(images, "build_offline", offline)
    monkeypatch.setattr(images, "build_from_upstream", upstream)
    return calls


def test_matching_label_is_reused_without_building(recorded_builds: list[str]) -> None:
    recipe = images.recipe_for_python("3.11")
    labels = {
        images.LABEL_RECIPE: recipe.recipe_hash(),
        "releasegate.fact.python_version": "3.11.2",
    }
    client = FakeClient({recipe.name: FakeImage("sha256:cached", labels)})
    got = images.ensure_image(client, recipe, progress=quiet)
    assert (got.how, got.source, got.image_id) == ("local", "local", "sha256:cached")
    assert got.facts["python_version"] == "3.11.2"
    assert recorded_builds == []
    assert client.api.pulls == []


def test_changed_recipe_rebuilds(recorded_builds: list[str]) -> None:
    recipe = images.recipe_for_python("3.11")
    client = FakeClient(
        {recipe.name: FakeImage("sha256:old", {images.LABEL_RECIPE: "0000"})},
        FakeApi(error="dial tcp: lookup registry-1.docker.io: no such host"),
    )
    messages: list[str] = []
    got = images.ensure_image(client, recipe, progress=messages.append)
    assert got.how == "built-offline" and got.image_id == "sha256:new"
    assert recorded_builds == ["offline"]
    assert any("recipe changed" in m for m in messages)


def test_image_without_label_is_not_trusted(recorded_builds: list[str]) -> None:
    recipe = images.recipe_for_postgres(15)
    client = FakeClient({recipe.name: FakeImage("sha256:foreign", None)})
    got = images.ensure_image(client, recipe, progress=quiet, allow_pull=False)
    assert got.how == "built-offline"
    assert client.api.pulls == []  # allow_pull=False: never asks a registry


def test_local_upstream_is_extended_not_pulled(recorded_builds: list[str]) -> None:
    recipe = images.recipe_for_postgres(15)
    client = FakeClient({"postgres:15-bookworm": FakeImage("sha256:official", {})})
    got = images.ensure_image(client, recipe, progress=quiet)
    assert got.how == "local"
    assert recorded_builds == ["upstream:postgres:15-bookworm:local:postgres:15-bookworm"]
    assert client.api.pulls == []


def test_pulled_upstream_is_extended(recorded_builds: list[str]) -> None:
    recipe = images.recipe_for_python("3.11")
    client = FakeClient({})
    got = images.ensure_image(client, recipe, progress=quiet)
    assert got.how == "pulled"
    assert client.api.pulls == [("python", "3.11-slim-bookworm")]
    base = "python:3.11-slim-bookworm"
    assert recorded_builds == [f"upstream:{base}:pulled:{base}"]


def test_failed_upstream_extension_falls_back_to_offline(
    recorded_builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> dict[str, str]:
        raise EnvironmentProblem("apt-get failed in the build", hint="")

    monkeypatch.setattr(images, "build_from_upstream", broken)
    recipe = images.recipe_for_python("3.11")
    client = FakeClient({})
    got = images.ensure_image(client, recipe, progress=quiet)
    assert got.how == "built-offline"
    assert recorded_builds == ["offline"]


def test_build_all_provisions_each_tag_once(recorded_builds: list[str]) -> None:
    client = FakeClient({}, FakeApi(error="dial tcp: lookup registry-1.docker.io: no such host"))
    recipes = [images.recipe_for_python("3.11"), images.recipe_for_postgres(15),
               images.recipe_for_python("3.11")]
    done = images.build_all(client, recipes, progress=quiet)
    assert [d.tag for d in done] == ["releasegate/python:3.11-bookworm",
                                     "releasegate/postgres:15-bookworm"]
    assert recorded_builds == ["offline", "offline"]
    # The registry was asked once; the second image did not try again.
    assert len(client.api.pulls) == 1


def test_build_all_builds_suites_side_by_side_and_one_suite_in_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time as clock

    running: dict[str, int] = {}
    overlap: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def fake(client: Any, recipe: images.ImageRecipe, **_: Any) -> images.ProvisionedImage:
        with lock:
            running[recipe.debian_suite] = running.get(recipe.debian_suite, 0) + 1
            overlap.append(tuple(sorted(s for s, n in running.items() if n)))
            assert running[recipe.debian_suite] == 1, "two images of one suite at once"
        clock.sleep(0.05)
        with lock:
            running[recipe.debian_suite] -= 1
        return images.ProvisionedImage(recipe.name, "id", "built-offline", 0.05)

    monkeypatch.setattr(images, "ensure_image", fake)
    recipes = [images.recipe_for_python("3.9"), images.recipe_for_postgres(13),
               images.recipe_for_python("3.13"), images.recipe_for_postgres(17)]
    done = images.build_all(object(), recipes, progress=quiet, workers=2)  # type: ignore[arg-type]
    assert [d.tag for d in done] == [r.name for r in recipes]
    assert any(len(suites) == 2 for suites in overlap)


def test_package_cache_is_kept_per_suite_and_pruned_when_stale(tmp_path: Path) -> None:
    env = {rootfs.DEB_CACHE_ENV: str(tmp_path)}
    folder = rootfs.deb_cache_dir("trixie", env)
    assert folder == tmp_path / "trixie" and folder.is_dir()
    fresh, stale = folder / "a_1_amd64.deb", folder / "a_0_amd64.deb"
    fresh.write_bytes(b"x")
    stale.write_bytes(b"x")
    os.utime(stale, (1, 1))
    rootfs.deb_cache_dir("trixie", env)
    assert fresh.exists() and not stale.exists()


# --- registry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on '
        "10.255.255.53:53: no such host",
        "Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting for "
        "connection (Client.Timeout exceeded while awaiting headers)",
        "dial tcp 44.205.64.79:443: connect: network is unreachable",
        "dial tcp: lookup registry-1.docker.io: Temporary failure in name resolution",
        "registry did not answer in 20 s",
    ],
)
def test_offline_errors_are_recognised(message: str) -> None:
    assert images.is_offline_error(message)


@pytest.mark.parametrize(
    "message",
    [
        "pull access denied for releasegate/nothing, repository does not exist",
        "manifest for postgres:99 not found: manifest unknown",
        "toomanyrequests: You have reached your pull rate limit.",
    ],
)
def test_registry_answers_are_not_offline(message: str) -> None:
    assert not images.is_offline_error(message)


def test_offline_is_remembered_for_the_process() -> None:
    api = FakeApi(error="dial tcp: lookup registry-1.docker.io on 10.0.0.1:53: no such host")
    client = FakeClient({}, api)
    messages: list[str] = []
    assert images.try_pull(client, "postgres:15-bookworm", messages.append) is False
    assert images.registry_offline() is not None
    assert images.try_pull(client, "python:3.11-slim-bookworm", messages.append) is False
    assert api.pulls == [("postgres", "15-bookworm")]
    assert any("building images offline" in m for m in messages)


def test_missing_upstream_tag_does_not_mark_offline() -> None:
    client = FakeClient({}, FakeApi(error="manifest for postgres:15-bookworm not found"))
    assert images.try_pull(client, "postgres:15-bookworm", quiet) is False
    assert images.registry_offline() is None


def test_silent_registry_times_out_quickly_and_counts_as_offline() -> None:
    client = FakeClient({}, FakeApi(hang=True))
    got = images.try_pull(client, "postgres:15-bookworm", quiet, answer_timeout_s=0.2)
    assert got is False
    assert "did not answer" in (images.registry_offline() or "")


def test_successful_pull() -> None:
    client = FakeClient({})
    assert images.try_pull(client, "postgres:15-bookworm", quiet) is True
    assert images.registry_offline() is None


# --- mirror, debootstrap command lines ---------------------------------------------------------


PLACEHOLDER = "http://mirror.invalid/debian"


def _apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (apt / name).write_text(text)
    return apt


def test_mirror_from_the_environment_first(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {"sources.list": "deb http://host.invalid/debian bookworm main\n"})
    env = {rootfs.MIRROR_ENV: "http://apt.internal.invalid/debian/"}
    assert rootfs.debian_mirror(env, apt) == "http://apt.internal.invalid/debian"
    assert rootfs.debian_mirror({rootfs.MIRROR_ENV: "  "}, apt) == "http://host.invalid/debian"


def test_mirror_override_from_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASEGATE_DEBIAN_MIRROR", PLACEHOLDER)
    assert rootfs.debian_mirror() == PLACEHOLDER


def test_mirror_from_the_hosts_one_line_sources(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {
        "sources.list": "# deb http://commented.invalid/debian bookworm main\n"
                        "deb-src http://src.invalid/debian bookworm main\n"
                        "deb [arch=amd64 signed-by=/k.gpg] https://vendor.invalid/apt "
                        "cloud-sdk-bookworm main\n"
                        "deb [signed-by=/usr/share/keyrings/d.gpg] http://mirror.invalid/debian/ "
                        "bookworm main contrib\n"
                        "deb http://mirror.invalid/debian-security bookworm-security main\n",
    })
    assert rootfs.debian_mirror({}, apt) == PLACEHOLDER
    assert rootfs.debian_security_mirror(apt) == "http://mirror.invalid/debian-security"


def test_mirror_from_the_hosts_deb822_sources(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {
        "sources.list.d/debian.sources": (
            "Types: deb\n"
            "# http://snapshot.invalid/archive/debian/20250520T000000Z\n"
            f"URIs: {PLACEHOLDER}\n"
            "Suites: trixie trixie-updates\nComponents: main\n\n"
            "Types: deb\nURIs: http://mirror.invalid/debian-security\n"
            "Suites: trixie-security\nComponents: main\n"),
        # A disabled stanza and a vendor repository sort first and are still not the archive.
        "sources.list.d/a-disabled.sources": (
            "Enabled: no\nTypes: deb\nURIs: http://disabled.invalid/debian\n"
            "Suites: bookworm\n"),
        "sources.list.d/node.sources": (
            "Types: deb\nURIs: https://node.invalid/node_20.x\nSuites: nodistro\n"),
    })
    assert rootfs.debian_mirror({}, apt) == PLACEHOLDER
    assert rootfs.debian_security_mirror(apt) == "http://mirror.invalid/debian-security"


def test_no_mirror_anywhere_is_an_environment_problem(tmp_path: Path) -> None:
    # An Ubuntu host: its archive serves no Debian release, so it must not be used.
    apt = _apt_dir(tmp_path, {"sources.list": "deb http://ubuntu.invalid/ubuntu jammy main\n"})
    with pytest.raises(EnvironmentProblem) as info:
        rootfs.debian_mirror({}, apt)
    assert rootfs.MIRROR_ENV in info.value.one_line()
    with pytest.raises(EnvironmentProblem):
        rootfs.debian_mirror({}, tmp_path / "no-apt-here")


def test_no_debian_host_name_in_the_code() -> None:
    for module in (rootfs, images):
        assert "debian.org" not in Path(module.__file__ or "").read_text()


def test_debootstrap_command_line() -> None:
    cmd = rootfs.debootstrap_command(
        "bookworm", Path("/var/tmp/x/rootfs"), mirror="http://m/debian",
        packages=("python3", "python3-venv"),
        keyring=Path("/usr/share/keyrings/debian-archive-keyring.gpg"),
    )
    assert cmd == [
        "debootstrap", "--variant=minbase", "--components=main",
        "--include=python3,python3-venv",
        "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
        "bookworm", "/var/tmp/x/rootfs", "http://m/debian",
    ]


def test_debootstrap_command_line_for_the_fast_path() -> None:
    cmd = rootfs.debootstrap_command(
        "forky", Path("/w/rootfs"), mirror="http://m/debian", packages=(),
        script=Path("/w/forky.planned"), cache_dir=Path("/w/debs"), resolve_deps=False,
        foreign=True,
    )
    assert cmd[:3] == ["debootstrap", "--variant=minbase", "--components=main"]
    assert {"--cache-dir=/w/debs", "--no-resolve-deps", "--foreign"} <= set(cmd)
    assert not any(a.startswith("--include") for a in cmd)
    assert cmd[-4:] == ["forky", "/w/rootfs", "http://m/debian", "/w/forky.planned"]


def test_forky_uses_the_sid_script_on_an_older_debootstrap(tmp_path: Path) -> None:
    for name in ("bullseye", "bookworm", "trixie", "sid"):
        (tmp_path / name).write_text("")
    assert rootfs.debootstrap_script_for("bookworm", tmp_path) is None
    assert rootfs.debootstrap_script_for("forky", tmp_path) == tmp_path / "sid"
    (tmp_path / "sid").unlink()
    with pytest.raises(EnvironmentProblem):
        rootfs.debootstrap_script_for("forky", tmp_path)


def test_ensure_debootstrap_installs_when_missing_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rootfs, "DEBIAN_KEYRING", Path("/nonexistent/keyring.gpg"))
    calls: list[list[str]] = []

    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def which(name: str) -> str | None:
        return None if name == "debootstrap" else f"/usr/bin/{name}"

    rootfs.ensure_debootstrap(quiet, which=which, run=run, root=True)
    assert calls[-1] == ["apt-get", "install", "-y", "debootstrap", "debian-archive-keyring"]
    with pytest.raises(EnvironmentProblem) as info:
        rootfs.ensure_debootstrap(quiet, which=which, run=run, root=False)
    assert "not root" in info.value.message


def test_sources_list() -> None:
    text = rootfs.sources_list("bookworm", PLACEHOLDER, security="http://mirror.invalid/sec")
    assert f"deb {PLACEHOLDER} bookworm main" in text
    assert "bookworm-updates" in text
    assert "deb http://mirror.invalid/sec bookworm-security main" in text
    assert "security" not in rootfs.sources_list("bookworm", PLACEHOLDER)
    forky = rootfs.sources_list("forky", "http://m/debian")
    assert forky == "deb http://m/debian forky main\n"


# --- root filesystem helpers -------------------------------------------------------------------

DPKG_STATUS = """Package: postgresql-15
Status: install ok installed
Version: 15.18-0+deb12u1
Description: object-relational SQL database
 continuation line: with a colon

Package: python3.11
Status: install ok installed
Version: 3.11.2-6+deb12u6

Package: removed-one
Status: deinstall ok config-files
Version: 1.0-1

Package: zlib1g
Status: install ok installed
Version: 1:1.2.13.dfsg-1
"""


def test_dpkg_status_and_upstream_versions() -> None:
    versions = rootfs.parse_dpkg_status(DPKG_STATUS)
    assert versions == {
        "postgresql-15": "15.18-0+deb12u1",
        "python3.11": "3.11.2-6+deb12u6",
        "zlib1g": "1:1.2.13.dfsg-1",
    }
    assert rootfs.upstream_version("15.18-0+deb12u1") == "15.18"
    assert rootfs.upstream_version("3.11.2-6+deb12u6") == "3.11.2"
    assert rootfs.upstream_version("3.0.20-1~deb12u2") == "3.0.20"
    assert rootfs.upstream_version("1:1.2.13.dfsg-1") == "1.2.13.dfsg"
    assert rootfs.upstream_version("20230311+deb12u1") == "20230311"


def test_rootfs_facts() -> None:
    versions = {"python3.11": "3.11.2-6+deb12u6", "python3": "3.11.2-1+b1",
                "postgresql-client-15": "15.18-0+deb12u1"}
    facts = images.rootfs_facts(images.recipe_for_python("3.11"), versions)
    assert facts["python_version"] == "3.11.2"
    assert facts["pg_client_version"] == "15.18"
    assert facts["debian_suite"] == "bookworm"
    assert "python3=3.11.2-1+b1" in facts["packages"]


PACKAGES = """Package: base-files
Priority: required
Version: 12.4
Architecture: amd64
Depends: mawk | awk
Filename: pool/main/b/base-files/base-files_12.4_amd64.deb
Size: 10
SHA256: aa

Package: gawk
Priority: optional
Version: 1:5.2.1-2
Architecture: amd64
Provides: awk
Filename: pool/main/g/gawk/gawk_5.2.1-2_amd64.deb
Size: 10
SHA256: bb

Package: mawk
Priority: required
Version: 1.3.4
Architecture: amd64
Provides: awk
Filename: pool/main/m/mawk/mawk_1.3.4_amd64.deb
Size: 10
SHA256: cc

Package: apt
Priority: important
Version: 2.6.1
Architecture: amd64
Depends: libc6 (>= 2.34), debian-archive-keyring
Filename: pool/main/a/apt/apt_2.6.1_amd64.deb
Size: 10
SHA256: dd

Package: libc6
Priority: optional
Version: 2.36-9
Architecture: amd64
Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb
Size: 10
SHA256: ee

Package: debian-archive-keyring
Priority: important
Version: 2023.3
Architecture: all
Filename: pool/main/d/debian-archive-keyring/k_2023.3_all.deb
Size: 10
SHA256: ff

Package: python3
Priority: optional
Version: 3.11.2-1+b1
Architecture: amd64
Pre-Depends: python3-minimal (= 3.11.2-1+b1)
Depends: libc6:any, python3.11 (>= 3.11.2-1~)
Filename: pool/main/p/python3/python3_3.11.2-1+b1_amd64.deb
Size: 10
SHA256: 11

Package: python3-minimal
Priority: optional
Version: 3.11.2-1+b1
Architecture: amd64
Filename: pool/main/p/python3/python3-minimal_3.11.2-1+b1_amd64.deb
Size: 10
SHA256: 22

Package: python3.11
Priority: optional
Version: 3.11.2-6
Architecture: amd64
Filename: pool/main/p/python3.11/python3.11_3.11.2-6_amd64.deb
Size: 10
SHA256: 33
"""


def test_package_index_plan_and_planned_script(tmp_path: Path) -> None:
    index = rootfs.parse_packages_index(PACKAGES)
    assert index["python3"].depends == (("python3-minimal",), ("libc6",), ("python3.11",))
    assert index["gawk"].cache_name == "gawk_1%3a5.2.1-2_amd64.deb"
    plan = rootfs.plan_packages(index, "trixie", ["python3"])
    # awk is satisfied by mawk (required), not by gawk
    assert plan.required == ("base-files", "mawk")
    assert plan.base == ("apt", "debian-archive-keyring", "libc6", "python3", "python3-minimal",
                         "python3.11")
    original = tmp_path / "trixie"
    original.write_text("mirror_style release\n")
    script = rootfs.planned_script(original, plan)
    assert script.startswith("mirror_style release\n")
    assert 'required="base-files mawk"' in script
    assert script.rstrip().endswith("}")


def test_mounts_below_deepest_first() -> None:
    mounts = (
        "proc /proc proc rw 0 0\n"
        "proc /var/tmp/rg-x/rootfs/proc proc rw 0 0\n"
        "sysfs /var/tmp/rg-x/rootfs/sys sysfs rw 0 0\n"
        "devpts /var/tmp/rg-x/rootfs/dev/pts devpts rw 0 0\n"
        "tmpfs /var/tmp/rg-xyz tmpfs rw 0 0\n"
    )
    got = rootfs.mounts_below(Path("/var/tmp/rg-x"), mounts)
    assert got[0] == Path("/var/tmp/rg-x/rootfs/dev/pts")
    assert set(got) == {Path("/var/tmp/rg-x/rootfs/proc"), Path("/var/tmp/rg-x/rootfs/sys"),
                        Path("/var/tmp/rg-x/rootfs/dev/pts")}


def test_build_workspace_is_removed_even_on_failure(tmp_path: Path) -> None:
    seen: list[Path] = []
    with pytest.raises(RuntimeError), rootfs.build_workspace("img:1", parent=tmp_path) as work:
        seen.append(work)
        (work / "rootfs").mkdir()
        raise RuntimeError("boom")
    assert seen and not seen[0].exists()
    assert seen[0].parent == tmp_path


def test_slim_rootfs_keeps_copyright(tmp_path: Path) -> None:
    for rel in ("usr/share/doc/bash/copyright", "usr/share/doc/bash/README.gz",
                "usr/share/man/man1/bash.1.gz", "var/lib/apt/lists/x_Packages",
                "var/cache/apt/pkgcache.bin"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    rootfs.slim_rootfs(tmp_path)
    assert (tmp_path / "usr/share/doc/bash/copyright").exists()
    assert not (tmp_path / "usr/share/doc/bash/README.gz").exists()
    assert not any((tmp_path / "usr/share/man").iterdir())
    assert not (tmp_path / "var/lib/apt/lists/x_Packages").exists()
    assert (tmp_path / "var/lib/apt/lists/partial").is_dir()
    assert not (tmp_path / "var/cache/apt/pkgcache.bin").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="changing file owners needs root")
def test_renumber_user(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\npostgres:x:100:102::/var/lib/postgresql:/bin/bash\n"
    )
    (tmp_path / "etc/group").write_text("root:x:0:\npostgres:x:102:\nssl-cert:x:101:postgres\n")
    owned = tmp_path / "var/lib/postgresql"
    owned.mkdir(parents=True)
    os.chown(owned, 100, 102)
    assert rootfs.renumber_user(tmp_path, "postgres", 999, 999) is True
    assert rootfs.passwd_ids(tmp_path, "postgres") == (999, 999)
    assert "postgres:x:999:" in (tmp_path / "etc/group").read_text()
    assert (owned.stat().st_uid, owned.stat().st_gid) == (999, 999)
    # ids taken by someone else: left alone
    (tmp_path / "etc/passwd").write_text(
        (tmp_path / "etc/passwd").read_text() + "other:x:1000:1000::/:/bin/sh\n"
    )
    assert rootfs.renumber_user(tmp_path, "postgres", 1000, 1000) is False


def test_stale_workspaces_are_swept(tmp_path: Path) -> None:
    old = tmp_path / f"{rootfs.WORKSPACE_PREFIX}img-old"
    fresh = tmp_path / f"{rootfs.WORKSPACE_PREFIX}img-fresh"
    other = tmp_path / "someone-elses-dir"
    for path in (old, fresh, other):
        (path / "rootfs").mkdir(parents=True)
    os.utime(old, (0, 0))
    os.utime(other, (0, 0))
    assert rootfs.sweep_stale_workspaces(tmp_path) == 1
    assert not old.exists() and fresh.exists() and other.exists()


def test_entrypoint_is_valid_bash_and_executable() -> None:
    entry = images.ENTRYPOINT_FILE
    assert os.access(entry, os.X_OK)
    done = subprocess.run(["bash", "-n", str(entry)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    text = entry.read_text()
    for contract in ("POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD", "POSTGRES_SSL_ONLY",
                     "--locale=C.UTF-8", "pg_stat_statements", "/docker-entrypoint-initdb.d",
                     "setpriv"):
        assert contract in text

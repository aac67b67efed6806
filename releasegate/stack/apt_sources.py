"""The Debian archive this host installs its own packages from, read from its apt sources.

Offline images are bootstrapped from that archive: a host on an internal mirror or behind a proxy
needs no extra setting, and no archive's host name is written into the harness. Both formats apt
reads are understood: one-line ``deb URI SUITE COMPONENTS`` files (sources.list, *.list) and
deb822 stanzas (*.sources).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

APT_DIR = Path("/etc/apt")

# Debian's release names and aliases: a suite outside these (Ubuntu's jammy, a vendor's
# "nodistro" or "cloud-sdk-bookworm") is not a Debian archive, whatever its URI.
DEBIAN_SUITES = frozenset({
    "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
    "oldoldstable", "oldstable", "stable", "testing", "unstable", "experimental",
})


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    file: Path


def read_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every enabled binary (``deb``) source, in the order apt reads its files."""
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    found: list[AptSource] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:  # absent or unreadable: apt would skip it too
            continue
        found += _deb822(text, file) if file.suffix == ".sources" else _one_line(text, file)
    return found


def debian_archive(sources: list[AptSource]) -> str | None:
    """The first http(s) URI that serves a Debian release itself (not -security, not a vendor)."""
    return _first(sources, lambda suite: suite in DEBIAN_SUITES)


def debian_security_archive(sources: list[AptSource]) -> str | None:
    """The first http(s) URI serving Debian's security updates (``<release>-security``)."""
    return _first(sources, lambda suite: suite.endswith("-security")
                  and suite.removesuffix("-security") in DEBIAN_SUITES)


def _first(sources: list[AptSource], wanted: Callable[[str], bool]) -> str | None:
    for source in sources:
        if source.uri.startswith(("http://", "https://")) and any(map(wanted, source.suites)):
            return source.uri.rstrip("/")
    return None


_OPTIONS = re.compile(r"^\[[^\]]*\]\s*")


def _one_line(text: str, file: Path) -> Iterator[AptSource]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue  # deb-src, blank, comment
        # Options in brackets ([arch=amd64 signed-by=...]) sit between the type and the URI.
        fields = _OPTIONS.sub("", line[4:].strip()).split()
        if len(fields) >= 2:
            yield AptSource(fields[0], (fields[1],), file)


def _deb822(text: str, file: Path) -> Iterator[AptSource]:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for raw in stanza.splitlines():
            if raw.startswith("#"):
                continue
            if raw[:1].isspace() and key:  # a folded continuation line
                fields[key] += " " + raw.strip()
            elif ":" in raw:
                key, value = raw.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() in ("no", "false", "0"):
            continue
        suites = tuple(fields.get("suites", "").split())
        for uri in fields.get("uris", "").split():
            yield AptSource(uri, suites, file)

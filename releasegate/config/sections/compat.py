"""``[compat]``: the compatibility matrix — which Pythons and PostgreSQLs, which cells, how many
at once, the smoke each cell runs, the dependency sets and the pages a browser must render.

Defaults are the documented matrix (Python 3.9, 3.11, 3.13, 3.14 × PostgreSQL 13, 15, 17, 18),
a pairwise plan, the whole ``[e2e]`` flow as the smoke, and no dependency sets or pages (the
criteria that need them are then insufficient, naming the key to set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from releasegate.config.reader import Table

PYTHONS = ("3.9", "3.11", "3.13", "3.14")
POSTGRES = (13, 15, 17, 18)
MATRICES = ("pairwise", "full")
BROWSERS = ("chromium", "firefox")
CELL_RE = re.compile(r"^py(\d+\.\d+)-pg(\d+)$")


@dataclass(frozen=True)
class FrameworkSettings:
    build_arg: str = ""
    """The build argument that names the requirements file the image installs ("" = none)."""
    sets: dict[str, str] = field(default_factory=dict)
    """Name → requirements file in the build context, e.g. lowest / highest."""


@dataclass(frozen=True)
class BrowserSettings:
    pages: tuple[str, ...] = ()
    """Paths of the HTML pages the application serves (besides those its OpenAPI document
    declares as text/html)."""
    session: str = "admin"
    """``admin`` (the profile's login, its token handed to the browser as ``cookie``) or
    ``anonymous``."""
    cookie: str = ""
    """The cookie the application reads a session token from (pages behind a login)."""
    browsers: tuple[str, ...] = BROWSERS
    chromium: str = "/usr/bin/chromium"
    firefox: str = "/usr/bin/firefox-esr"
    timeout_s: float = 30.0


@dataclass(frozen=True)
class CompatSettings:
    pythons: tuple[str, ...] = PYTHONS
    postgres: tuple[int, ...] = POSTGRES
    matrix: str = "pairwise"
    """``pairwise``: every version at least once; ``full``: every pair."""
    cells: tuple[str, ...] = ()
    """Only these cells (``py3.11-pg15``), e.g. one per CI job (``releasegate run --cell``)."""
    workers: int = 2
    """Cells run at once."""
    smoke_steps: tuple[str, ...] = ()
    """Names of ``[[e2e.steps]]`` a cell runs as its smoke (empty: the whole flow)."""
    requires_python: str = ""
    """The application's supported Pythons (a PEP 440 specifier); empty: read from
    ``pyproject`` in the build context."""
    pyproject: str = "pyproject.toml"
    backup_artifact: str = "path"
    """Dotted JSON path, in the backup command's stdout, of the artifact it wrote."""
    cell_timeout_s: float = 900.0
    framework: FrameworkSettings = field(default_factory=FrameworkSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)


def parse(t: Table) -> CompatSettings:
    pythons = tuple(t.str_list("pythons", list(PYTHONS)))
    postgres = tuple(int(v) for v in t.typed("postgres", list, list(POSTGRES)))
    settings = CompatSettings(
        pythons=pythons, postgres=postgres, matrix=t.choice("matrix", MATRICES, "pairwise"),
        cells=tuple(t.str_list("cells", [])), workers=t.integer("workers", 2),
        smoke_steps=tuple(t.str_list("smoke_steps", [])),
        requires_python=t.text("requires_python", ""),
        pyproject=t.text("pyproject", "pyproject.toml"),
        backup_artifact=t.text("backup_artifact", "path"),
        cell_timeout_s=t.number("cell_timeout_s", 900.0),
        framework=_framework(t.table("framework")), browser=_browser(t.table("browser")),
    )
    t.finish()
    if not settings.pythons or not settings.postgres:
        raise t.error("pythons", "the matrix needs at least one Python and one PostgreSQL")
    for cell in settings.cells:
        match = CELL_RE.match(cell)
        if not match:
            raise t.error("cells", f"{cell!r} is not a cell", 'write "py3.11-pg15"')
        if match.group(1) not in pythons or int(match.group(2)) not in postgres:
            raise t.error("cells", f"{cell!r} is outside the matrix",
                          f"Pythons {', '.join(pythons)} × PostgreSQL "
                          f"{', '.join(map(str, postgres))}")
    if not 1 <= settings.workers <= 8:
        raise t.error("workers", "must be between 1 and 8")
    if settings.cell_timeout_s <= 0:
        raise t.error("cell_timeout_s", "must be positive")
    return settings


def _framework(t: Table | None) -> FrameworkSettings:
    if t is None:
        return FrameworkSettings()
    out = FrameworkSettings(build_arg=t.text("build_arg", ""), sets=t.str_map("sets"))
    t.finish()
    if out.sets and not out.build_arg:
        raise t.error("build_arg", "the dependency sets need the build argument that names "
                      "the requirements file", 'e.g. build_arg = "REQUIREMENTS"')
    return out


def _browser(t: Table | None) -> BrowserSettings:
    if t is None:
        return BrowserSettings()
    out = BrowserSettings(
        pages=tuple(t.str_list("pages", [])), session=t.choice("session", ("admin", "anonymous"),
                                                               "admin"),
        cookie=t.text("cookie", ""),
        browsers=tuple(t.str_list("browsers", list(BROWSERS))),
        chromium=t.text("chromium", "/usr/bin/chromium"),
        firefox=t.text("firefox", "/usr/bin/firefox-esr"),
        timeout_s=t.number("timeout_s", 30.0),
    )
    t.finish()
    for page in out.pages:
        if not page.startswith("/"):
            raise t.error("pages", f"{page!r} must start with '/'")
    unknown = set(out.browsers) - set(BROWSERS)
    if unknown:
        raise t.error("browsers", f"unknown browser(s) {sorted(unknown)}",
                      f"choose from {', '.join(BROWSERS)}")
    return out

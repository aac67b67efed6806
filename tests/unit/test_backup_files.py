"""What the harness believes about a backup artifact comes from the bytes: the format, the
checksum side file held against its own hash, the manifest, a listing of the dump, the schema."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from releasegate.config.sections.backup import BackupSettings
from releasegate.measure.backup_files import (
    CUSTOM,
    PLAIN,
    UNKNOWN,
    FileEntry,
    artifact_names,
    check_artifact,
    dump_format,
    flip_bytes,
    new_artifacts,
    parse_time,
)
from releasegate.measure.pg_tools import normalise_schema, parse_listing, schema_diff

SETTINGS = BackupSettings(dir="/b", artifact="app-*.dump", latest="LATEST",
                          checksum_suffix=".sha256", manifest_suffix=".json")
DUMP = b"PGDMP" + bytes(range(256)) * 8


def entry(name: str, size: int = 10, mtime: float = 1.0) -> FileEntry:
    return FileEntry(name, size, 0o600, 10001, mtime)


def test_side_files_hidden_files_and_the_pointer_are_not_artifacts() -> None:
    names = ["app-1.dump", "app-1.dump.sha256", "app-1.dump.json", ".app-2.dump",
             "LATEST", "other.dump"]
    assert artifact_names({n: entry(n) for n in names}, SETTINGS) == ["app-1.dump"]


def test_new_artifacts_are_those_that_appeared_or_changed() -> None:
    before = {"app-1.dump": entry("app-1.dump")}
    after = {**before, "app-2.dump": entry("app-2.dump", mtime=3.0),
             "app-0.dump": entry("app-0.dump", mtime=2.0)}
    assert new_artifacts(before, after, SETTINGS) == ["app-0.dump", "app-2.dump"]
    rewritten = {"app-1.dump": entry("app-1.dump", size=99)}
    assert new_artifacts(before, rewritten, SETTINGS) == ["app-1.dump"]


def test_formats_are_read_from_the_first_bytes() -> None:
    assert dump_format(DUMP) == CUSTOM
    assert dump_format(b"--\n-- PostgreSQL database dump\n--\n") == PLAIN
    assert dump_format(b"\x00\x01garbage") == UNKNOWN


def test_an_intact_artifact_with_matching_side_files_passes() -> None:
    digest = hashlib.sha256(DUMP).hexdigest()
    check = check_artifact("app-1.dump", DUMP, {
        ".sha256": f"{digest}  app-1.dump\n".encode(),
        ".json": json.dumps({"created_at": "2026-11-29T10:00:00.000Z"}).encode()}, SETTINGS)
    assert check.ok, check.problems
    assert check.checksum == digest and check.manifest is not None


def test_a_checksum_that_disagrees_or_is_missing_is_a_problem() -> None:
    wrong = check_artifact("app-1.dump", DUMP, {".sha256": b"0" * 64, ".json": b"{}"},
                           SETTINGS)
    assert any("checksum file says" in p for p in wrong.problems)
    missing = check_artifact("app-1.dump", DUMP, {".sha256": None, ".json": None}, SETTINGS)
    assert len(missing.problems) == 2


def test_an_empty_or_foreign_file_is_no_backup() -> None:
    check = check_artifact("app-1.dump", b"", {}, BackupSettings(dir="/b"))
    assert "the artifact is empty" in check.problems
    gz = check_artifact("app-1.dump", b"\x1f\x8b\x08rest", {}, BackupSettings(dir="/b"))
    assert any("not a PostgreSQL dump" in p for p in gz.problems)


def test_manifest_times_are_iso_8601() -> None:
    assert parse_time("2026-11-29T10:00:00.500Z") == parse_time("2026-11-29T10:00:00.500+00:00")
    assert parse_time("yesterday") is None


@given(st.binary(min_size=1, max_size=4096))
def test_flipping_changes_the_tail_and_keeps_the_length(data: bytes) -> None:
    flipped = flip_bytes(data)
    assert len(flipped) == len(data) and flipped != data
    assert flipped[:-64] == data[:-64]  # the table of contents at the front is intact
    assert flip_bytes(flipped) == data


def test_listing_names_table_data_and_the_creation_time() -> None:
    text = (";\n; Archive created at 2026-11-29 10:00:05 UTC\n;     dbname: app\n"
            "3350; 0 16390 TABLE DATA public buildings app\n"
            "3351; 0 16401 TABLE DATA public rooms app\n"
            "3200; 1259 16389 TABLE public buildings app\n")
    listing = parse_listing(text)
    assert listing.tables == {"public.buildings", "public.rooms"}
    assert listing.created_at == parse_time("2026-11-29T10:00:05Z")


def test_schema_noise_and_reprinted_casts_do_not_count_as_differences() -> None:
    source = ("-- comment\nSET x = 1;\n\\restrict abc\nCREATE TABLE t (\n"
              "    s character varying CHECK (((s)::text = ANY ((ARRAY['a'::character varying, "
              "'b'::character varying])::text[])))\n);\nALTER TABLE t OWNER TO app;\n")
    restored = ("CREATE TABLE t (\n    s character varying CHECK (((s)::text = ANY (ARRAY[("
                "'a'::character varying)::text, ('b'::character varying)::text])))\n);\n"
                "\\restrict other\n")
    assert schema_diff(source, restored) == []
    assert len(normalise_schema(source)) == 3


def test_a_missing_index_is_a_schema_difference() -> None:
    source = "CREATE TABLE t (id integer);\nCREATE INDEX ix_t ON t USING btree (id);\n"
    diff = schema_diff(source, "CREATE TABLE t (id integer);\n")
    assert any(line.startswith("-CREATE INDEX ix_t") for line in diff)

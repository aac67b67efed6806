"""Files in an Allure results directory: result JSON and attachments copied from the run.

Evidence files come from suites and tools, so they are treated with suspicion: a path may point
outside the measurement directory, a file may be huge, binary, or hold a secret. Text is
redacted, oversized text keeps its tail, and anything that cannot be read is reported missing
rather than stopping the report.
"""

from __future__ import annotations

import codecs
import mimetypes
import uuid
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import ATTACHMENT_PATTERN, Attachment, TestResult
from allure_commons.types import AttachmentType

from releasegate.evidence.redact import Redactor

MAX_TEXT_ATTACHMENT = 5 * 1024 * 1024
"""Larger text attachments keep their tail: a single-file HTML must stay openable."""

_TEXT_SUFFIXES = {
    ".log": "text/plain", ".txt": "text/plain", ".out": "text/plain", ".hgrm": "text/plain",
    ".ndjson": "text/plain", ".jsonl": "text/plain", ".json": AttachmentType.JSON.mime_type,
    ".csv": AttachmentType.CSV.mime_type, ".xml": AttachmentType.XML.mime_type,
    ".yaml": AttachmentType.YAML.mime_type, ".yml": AttachmentType.YAML.mime_type,
    ".html": AttachmentType.HTML.mime_type, ".svg": AttachmentType.SVG.mime_type,
}


class ResultsDir:
    """allure_commons' file logger; it ships py.typed but leaves these methods unannotated."""

    def __init__(self, directory: Path) -> None:
        self._logger = AllureFileLogger(str(directory))  # type: ignore[no-untyped-call]

    def result(self, result: TestResult) -> None:
        self._logger.report_result(result)  # type: ignore[no-untyped-call]

    def data(self, body: bytes, file_name: str) -> None:
        self._logger.report_attached_data(  # type: ignore[no-untyped-call]
            body=body, file_name=file_name
        )


def _mime(path: Path, probe: bytes) -> tuple[str, bool]:
    """Content type and whether the file is text (and so must be redacted)."""
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return _TEXT_SUFFIXES[suffix], True
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed and guessed.startswith("image/"):
        return guessed, False
    try:
        # Incremental: the probe may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(probe, final=False)
    except UnicodeDecodeError:
        return guessed or "application/octet-stream", False
    return guessed if guessed and guessed.startswith("text/") else "text/plain", True


def _display_name(relative: str) -> str:
    name = Path(relative).name
    # MeasurementStore.attach prefixes 8 hex digits to keep names unique; readers want the rest.
    head, sep, rest = name.partition("-")
    if sep and rest and len(head) == 8 and all(c in "0123456789abcdef" for c in head):
        return rest
    return name


def _read_text_tail(path: Path) -> bytes:
    size = path.stat().st_size
    if size <= MAX_TEXT_ATTACHMENT:
        return path.read_bytes()
    with path.open("rb") as handle:
        handle.seek(size - MAX_TEXT_ATTACHMENT)
        tail = handle.read()
    note = (f"[releasegate: first {size - MAX_TEXT_ATTACHMENT} of {size} bytes omitted; "
            f"the full file is {path}]\n")
    return note.encode() + tail


def _inside(base: Path, relative: str) -> Path | None:
    candidate = (base / relative).resolve()
    root = base.resolve()
    return candidate if candidate == root or root in candidate.parents else None


def attach_bytes(results: ResultsDir, body: bytes, name: str, mime: str, ext: str) -> Attachment:
    source = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext=ext)
    results.data(body, source)
    return Attachment(name=name, source=source, type=mime)


def attach_evidence(
    results: ResultsDir, measurements_dir: Path, relative: str, redact: Redactor
) -> Attachment | None:
    """Copy one evidence file; None when it is missing, unreadable or outside the directory."""
    path = _inside(measurements_dir, relative)
    if path is None or not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            probe = handle.read(8192)
        mime, is_text = _mime(path, probe)
        if is_text:
            text = _read_text_tail(path).decode("utf-8", errors="replace")
            body = redact(text).encode("utf-8")
        else:
            body = path.read_bytes()
    except OSError:
        return None
    ext = path.suffix.lstrip(".").lower() or ("txt" if is_text else "bin")
    return attach_bytes(results, body, _display_name(relative), mime, ext)

"""Did the log rotate the way the deployment says? Read from the files themselves.

The harness sends numbered requests that the application logs, one after another, then reads
the live log file and its rotated copies (``app.log.1`` … ``app.log.N``, oldest last). Rotation
at the configured size means every rotated file ends close to that size and no file grows past
it; bounded means at most the configured number of copies, and a total size to match. No line
may be lost across a rotation: the numbers found, oldest file first, run without a gap up to
the last request sent (the oldest may have been deleted by the bound, never the ones between).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from releasegate.config.sections.reliability import LogRotation
from releasegate.measure.recorder import CheckList


@dataclass(frozen=True)
class LogFiles:
    base: str
    """The live file's name, e.g. ``app.log``."""
    current: bytes
    rotated: tuple[tuple[int, bytes], ...]
    """(number, content) of ``<base>.<number>``, newest (1) first."""
    others: tuple[str, ...] = ()
    """Other files that look like copies of the log (``app.log.gz``, ``app.log-2026…``)."""

    @classmethod
    def from_directory(cls, files: Mapping[str, bytes], base: str) -> LogFiles:
        rotated, others = [], []
        for name, data in files.items():
            if name == base or not name.startswith(base):
                continue
            suffix = name[len(base):]
            if re.fullmatch(r"\.\d+", suffix):
                rotated.append((int(suffix[1:]), data))
            else:
                others.append(name)
        return cls(base, files.get(base, b""), tuple(sorted(rotated)), tuple(sorted(others)))

    def oldest_first(self) -> list[bytes]:
        return [data for _, data in reversed(self.rotated)] + [self.current]


def numbers(text: bytes, token: re.Pattern[bytes]) -> list[int]:
    return [int(m.group(1)) for m in token.finditer(text)]


def judge(files: LogFiles, settings: LogRotation, token: re.Pattern[bytes], sent: int,
          longest_line: int) -> tuple[CheckList, dict[str, object]]:
    """Checks of rotation, bounds and continuity; ``sent`` requests were numbered 0..sent-1."""
    checks = CheckList()
    limit, keep = settings.max_bytes, settings.backups
    sizes = {f"{files.base}.{n}": len(data) for n, data in files.rotated}
    sizes[files.base] = len(files.current)
    total = sum(sizes.values())
    checks.add("the log rotated (at least one rotated copy exists)", bool(files.rotated),
               f"files: {sorted(sizes)}; live file {len(files.current)} bytes")
    checks.add(f"at most {keep} rotated copies are kept", len(files.rotated) <= keep
               and not files.others, f"{len(files.rotated)} numbered copies, others: "
               f"{list(files.others)}")
    too_big = {name: size for name, size in sizes.items() if size > limit + longest_line}
    checks.add(f"no file grows past {limit} bytes", not too_big, f"{too_big}")
    early = {f"{files.base}.{n}": len(d) for n, d in files.rotated
             if len(d) < limit - 2 * longest_line}
    checks.add(f"every rotated copy was cut at about {limit} bytes", not early,
               f"rotated early: {early}")
    bound = (keep + 1) * limit + longest_line
    checks.add(f"all files together stay within {bound} bytes", total <= bound,
               f"{total} bytes")
    found = [n for data in files.oldest_first() for n in numbers(data, token)]
    unique = sorted(set(found))
    checks.add("the requests were logged", bool(unique), "no numbered request line in any file")
    if unique:
        first = unique[0]
        missing = sorted(set(range(first, sent)) - set(unique))
        checks.add("no line lost across a rotation (numbers run without a gap to the last one)",
                   not missing, f"{len(missing)} missing, first {missing[:5]}")
        checks.add("lines are in order across the files", found == sorted(found),
                   "a rotated copy holds newer lines than a later file")
        checks.add("only lines beyond the bound were dropped",
                   first == 0 or len(files.rotated) >= keep,
                   f"lines before #{first} are gone although only {len(files.rotated)} of "
                   f"{keep} copies exist")
    return checks, {"files": sizes, "total_bytes": total, "sent": sent,
                    "first_kept": unique[0] if unique else None, "kept": len(unique)}

"""Apply a defect variant to a source tree (run in the image's build stage only).

A variant is ``variants/<name>.json``::

    {"description": "...", "expect": ["CRITERION-ID", ...], "also_breaks": ["..."],
     "edits": [{"file": "rento/x.py", "find": "exact text", "replace": "new text"}],
     "build_args": {"NAME": "value"}}

Every ``find`` must occur exactly once in its file; otherwise nothing is written and the script
exits non-zero, so a variant whose anchor text has drifted breaks the build instead of silently
producing a clean image. A defect of the image recipe rather than of the source (running as
root, say) is a variant without edits whose ``build_args`` go to the build beside ``VARIANT``.

Usage: python3 variants/apply.py NAME [--root DIR]   (DIR defaults to the parent of variants/)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Dict, List

VARIANTS_DIR = Path(__file__).resolve().parent
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class VariantError(Exception):
    pass


def load(name: str) -> Dict[str, object]:
    if not NAME_RE.match(name):
        raise VariantError(f"invalid variant name {name!r}")
    path = VARIANTS_DIR / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in VARIANTS_DIR.glob("*.json"))
        raise VariantError(f"unknown variant {name!r}; known: {', '.join(known)}")
    data = json.loads(path.read_text(encoding="utf-8"))
    build_args = data.get("build_args", {})
    if not isinstance(build_args, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in build_args.items()
    ):
        raise VariantError(f"variant {name!r}: build_args must map names to strings")
    if not isinstance(data.get("edits"), list) or not (data["edits"] or build_args):
        raise VariantError(f"variant {name!r} has neither edits nor build_args")
    return data


def apply(name: str, root: Path) -> List[str]:
    """Apply all edits of a variant atomically (all or nothing); returns the files changed."""
    data = load(name)
    pending: Dict[Path, str] = {}
    for number, edit in enumerate(data["edits"], 1):  # type: ignore[arg-type]
        target = (root / edit["file"]).resolve()
        if root.resolve() not in target.parents:
            raise VariantError(f"edit {number}: {edit['file']} is outside the source tree")
        text = pending.get(target)
        if text is None:
            if not target.is_file():
                raise VariantError(f"edit {number}: {edit['file']} does not exist")
            text = target.read_text(encoding="utf-8")
        count = text.count(edit["find"])
        if count != 1:
            problem = "not found" if count == 0 else f"found {count} times (ambiguous)"
            raise VariantError(f"edit {number}: text to find in {edit['file']} {problem}")
        pending[target] = text.replace(edit["find"], edit["replace"], 1)
    for target, text in pending.items():
        target.write_text(text, encoding="utf-8")
    return [str(p.relative_to(root.resolve())) for p in pending]


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description="Apply a defect variant to the source tree")
    parser.add_argument("name")
    parser.add_argument("--root", type=Path, default=VARIANTS_DIR.parent)
    args = parser.parse_args(argv)
    try:
        changed = apply(args.name, args.root)
    except (VariantError, KeyError, ValueError) as exc:
        print(f"variant {args.name}: {exc}", file=sys.stderr)
        return 1
    print(f"variant {args.name} applied to: {', '.join(changed) or '(no source file)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

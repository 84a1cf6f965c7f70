"""``python -m planner_loop.records [--check] [PATH]``: write (or check) ``docs/record-schema.json``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner_loop.records.schema import SCHEMA_FILE, schema_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner_loop.records", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=SCHEMA_FILE, help="schema file (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from the models")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.is_file() else None
        if current != text:
            print(f"{args.path} is out of date; run: python -m planner_loop.records", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

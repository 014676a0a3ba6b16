"""Rewrite the status table of README.md from an evaluation report (the table is never typed by hand).

    python -m scripts.evaluate --task all --episodes 20 --num_workers 2 --out docs/status
    python -m scripts.status_table docs/status/report.json

The table sits between two marker lines in the README; see maestromotif/eval/status_table.py.
"""

from __future__ import annotations

import argparse
import sys

from maestromotif.eval.status_table import load_report, render, update_readme
from maestromotif.utils.errors import run_cli
from maestromotif.workspace import CHECKOUT


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.status_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", nargs="?", default=str(CHECKOUT / "docs/status/report.json"),
                   help="report.json written by scripts.evaluate (default: %(default)s)")
    p.add_argument("--readme", default=str(CHECKOUT / "README.md"), help="file whose marked table is rewritten (default: %(default)s)")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the table instead of rewriting the README")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.print_only:
        print(render(load_report(a.report)), end="")
        return 0
    changed = update_readme(a.report, a.readme)
    print(f"{a.readme}: status table {'rewritten' if changed else 'already up to date'} from {a.report}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))

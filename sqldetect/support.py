"""The table of supported SPL (commands, eval functions, statistical functions), generated from the
translator's registries so the README can never claim more or less than the code does.

``python -m sqldetect.support --write README.md`` rewrites the block between the markers; a test fails when
the README is out of date.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

START = "<!-- supported-spl:start -->"
END = "<!-- supported-spl:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def support_markdown() -> str:
    from sqldetect.compile.aggregations import AGGREGATIONS
    from sqldetect.compile.functions import FUNCTIONS
    from sqldetect.compile.registry import all_commands

    lines = ["| command | also | what it does |", "|---|---|---|"]
    for spec in all_commands():
        lines.append(f"| `{spec.name}` | {', '.join(f'`{a}`' for a in spec.aliases)} | {_cell(spec.summary)} |")
    lines += ["", "Eval functions:", ""]
    names = sorted({spec.name for spec in FUNCTIONS.values()})
    lines.append(", ".join(f"`{n}()`" for n in names))
    aliases = sorted(k for k, spec in FUNCTIONS.items() if k != spec.name)
    if aliases:
        lines.append(f" (also {', '.join(f'`{a}()`' for a in aliases)})")
    lines += ["", "Statistical functions (stats, eventstats, streamstats, tstats):", ""]
    agg_names = sorted({spec.name for spec in AGGREGATIONS.values()})
    lines.append(", ".join(f"`{n}`" for n in agg_names) + ", `perc<N>`/`p<N>`/`exactperc<N>`/`upperperc<N>`")
    agg_aliases = sorted(k for k, spec in AGGREGATIONS.items() if k != spec.name)
    if agg_aliases:
        lines.append(f" (also {', '.join(f'`{a}`' for a in agg_aliases)})")
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError("the README has no supported-SPL markers")
    return pattern.sub(lambda _: f"{START}\n{block}{END}", text)


def current_block(text: str) -> str | None:
    m = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    return m.group(1) if m else None


def main() -> None:
    parser = argparse.ArgumentParser(description="Print or write the supported-SPL table.")
    parser.add_argument("--write", type=Path, help="Rewrite the marked block of this Markdown file.")
    args = parser.parse_args()
    block = support_markdown()
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(encoding="utf-8"), block), encoding="utf-8")
    else:
        print(block, end="")


if __name__ == "__main__":
    main()

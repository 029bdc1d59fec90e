"""Run every benchmark of tests/benchmarks/ and write BENCHMARKS.md at the repository root.

    .venv/bin/python tests/benchmarks/run_all.py [--quick] [--skip NAME] [--only NAME]
        [--output BENCHMARKS.md]

Each benchmark runs in its own process, with the sizes below (``--quick``: the small ones,
a few minutes in all). BENCHMARKS.md gets the machine and the date, a summary table of every
figure that has a goal or an anchor (taken from the benchmarks' own Markdown tables: those
with a "goal" column), then each benchmark's whole output. A benchmark that fails or cannot
run here (bench_tui.py needs tmux) is listed with its reason; the others still run.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: (script, arguments, quick arguments), in the order they run.
BENCHMARKS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("bench_core.py", (), ("--quick",)),
    ("bench_reconcile.py", (), ("--quick",)),
    (
        "bench_propagation.py",
        ("--nodes", "10", "--messages", "30"),
        ("--nodes", "5", "--messages", "10"),
    ),
    ("bench_tui.py", ("--runs", "3"), ("--requests", "500", "--runs", "1")),
    ("bench_sim.py", (), ("--quick",)),
)


@dataclass(frozen=True)
class Outcome:
    script: str
    arguments: tuple[str, ...]
    code: int
    seconds: float
    output: str
    errors: str


def run(script: str, arguments: tuple[str, ...]) -> Outcome:
    started = time.perf_counter()
    print(f"running {script} {' '.join(arguments)}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(HERE / script), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return Outcome(
        script, arguments, done.returncode, time.perf_counter() - started, done.stdout, done.stderr
    )


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def goal_rows(outcome: Outcome) -> list[tuple[str, str, str, str]]:
    """(figure, measured, anchor, goal) of every table row with a goal, in a benchmark's
    Markdown output."""
    rows: list[tuple[str, str, str, str]] = []
    lines = outcome.output.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or i + 1 >= len(lines) or not lines[i + 1].startswith("|--"):
            continue
        head = [h.lower() for h in _cells(line)]
        if "goal" not in head:
            continue
        goal = head.index("goal")
        measured = head.index("measured") if "measured" in head else goal - 1
        anchor = head.index("anchor") if "anchor" in head else None
        for row in lines[i + 2 :]:
            if not row.startswith("|"):
                break
            cells = _cells(row)
            if len(cells) != len(head) or not (cells[goal] or (anchor and cells[anchor])):
                continue
            measured_text = cells[measured]
            if measured != 1 and head[measured] not in ("measured",):
                measured_text = f"{head[measured]}: {measured_text}"
            rows.append((cells[0], measured_text, cells[anchor] if anchor else "", cells[goal]))
    return rows


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load} when it finished"
    )


def write(outcomes: list[Outcome], path: Path, quick: bool) -> None:
    command = "tests/benchmarks/run_all.py" + (" --quick" if quick else "")
    parts = [
        "# entraide benchmarks\n",
        f"Written by `.venv/bin/python {command}` on {time.strftime('%Y-%m-%d %H:%M')} "
        f"({machine()}). These machines are shared and noisy: compare ratios measured in the "
        "same run; the simulator's figures are in simulated time. Anchors come from "
        "shared/reference/performance.md.\n",
        "## Summary: every figure with a goal or an anchor\n",
        "| benchmark | figure | measured | anchor | goal |",
        "|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        rows = goal_rows(outcome)
        if outcome.code and not rows:  # it failed before printing any figure
            why = (outcome.errors.strip().splitlines() or [f"exit code {outcome.code}"])[-1]
            parts.append(f"| {outcome.script} | did not run here | {why} |  |  |")
            continue
        # A benchmark that printed its figures but missed a goal exits non-zero: its rows
        # say which.
        for figure, measured, anchor, goal in rows:
            parts.append(f"| {outcome.script} | {figure} | {measured} | {anchor} | {goal} |")
    for outcome in outcomes:
        command = " ".join((f"tests/benchmarks/{outcome.script}", *outcome.arguments))
        parts.append(
            f"\n## {outcome.script}\n\n`.venv/bin/python {command}`: "
            f"{outcome.seconds:.0f} s, exit code {outcome.code}\n"
        )
        body = outcome.output.strip()
        parts.append(_demote(body) if body else "(no output)")
        if outcome.code and outcome.errors.strip():
            tail = "\n".join(outcome.errors.strip().splitlines()[-15:])
            parts.append(f"\n```\n{tail}\n```")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def _demote(markdown: str) -> str:
    """A benchmark's own headings one level down, under its section."""
    return re.sub(r"^(#+) ", r"\1## ", markdown, flags=re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--skip", action="append", default=[], help="a benchmark not to run")
    parser.add_argument("--only", action="append", default=[], help="run only this one")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    known = {script for script, _, _ in BENCHMARKS}
    for name in [*args.skip, *args.only]:
        if name not in known:
            parser.error(f"no benchmark {name!r} (known: {', '.join(sorted(known))})")
    outcomes = [
        run(script, quick if args.quick else full)
        for script, full, quick in BENCHMARKS
        if script not in args.skip and (not args.only or script in args.only)
    ]
    write(outcomes, args.output, args.quick)
    for outcome in outcomes:
        print(f"{outcome.script}: exit {outcome.code}, {outcome.seconds:.0f} s", file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)
    return max((o.code for o in outcomes), default=0)


if __name__ == "__main__":
    sys.exit(main())

"""The simulator's figures (node/sim) at full size, each next to its anchor and its goal,
and the simulator against real node processes on the same small scenario.

    .venv/bin/python tests/benchmarks/bench_sim.py [--quick] [--nodes 1000] [--skip-real]

Prints Markdown: the machine, one table of every figure (`entraide simulate`: alerts over
gossip at 20 % loss per gossip configuration, a 24 h partition healing, churn, LoRa channel
utilisation per radio configuration), then the comparison of eight real `entraide node`
processes with the simulator (tests/sim/test_real_vs_sim.py). Simulated figures are in
simulated time and do not depend on the machine; the wall-clock time each took does.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from node.cli import main as entraide
from node.sim.report import Row, markdown
from tests.sim.test_real_vs_sim import Comparison, compare


def comparison_row(c: Comparison) -> Row:
    real_copies, sim_copies = sum(c.real_copies), sum(c.sim_copies)
    same = c.real_delivered and c.sim_delivered == 1.0
    close = abs(real_copies - sim_copies) <= 0.1 * real_copies
    return Row(
        f"{len(c.real_copies)} real node processes against the simulator: same graph "
        f"({c.edges} links), same 12 posts",
        f"delivery {'100 %' if c.real_delivered else 'incomplete'} real, "
        f"{100 * c.sim_delivered:.0f} % simulated; payload copies received {real_copies} real, "
        f"{sim_copies} simulated; duplicates {sum(c.real_duplicates)} / "
        f"{sum(c.sim_duplicates)}; IHAVE {sum(c.real_ihave)} / {sum(c.sim_ihave)}; catch-up "
        f"sessions {c.real_sessions} / {c.sim_sessions}",
        "",
        "same delivery, copies within 10 %: " + ("PASS" if same and close else "no"),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small town, a short hour")
    parser.add_argument("--nodes", type=int, help="Wi-Fi nodes (default 1000, 200 quick)")
    parser.add_argument("--skip-real", action="store_true", help="no real node processes")
    args = parser.parse_args()
    print("# entraide simulator benchmark\n")
    print(
        f"- {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start\n"
    )
    command = ["simulate", *(["--quick"] if args.quick else [])]
    command += ["--nodes", str(args.nodes)] if args.nodes else []
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = entraide(command, out=out, err=err)
    if code:
        print(err.getvalue(), file=sys.stderr)
        return code
    table = out.getvalue().rstrip("\n")
    print(f"## Figures (`entraide {' '.join(command)}`, {time.perf_counter() - started:.0f} s)\n")
    print(table)
    if not args.skip_real:
        root = Path(tempfile.mkdtemp(prefix="bsim", dir="/tmp"))  # short socket paths
        try:
            started = time.perf_counter()
            comparison = compare(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(
            f"\n## Real processes against the simulator ({time.perf_counter() - started:.0f} s)\n"
        )
        print(markdown([comparison_row(comparison)], "en"))
        print(f"\nPer node: {comparison.describe()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

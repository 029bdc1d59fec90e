"""Catch-up reconciliation benchmark: bytes and round trips against the information floor,
and CPU time per side, with a naive baseline measured in the same run.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_reconcile.py [--quick] [--ids N] [--diff D]
        [--rounds N]

Two sessions (protocol/reconcile.py) run in one process over an in-memory link, on N ids per
side (default 100,000) differing by D (default 100):

- clustered: ids are in creation order and one side lacks the D newest (run twice: the
  initiator behind, then the responder behind);
- scattered: D ids at random, half missing on each side.

"Bytes" are everything on the stream except the ENVELOPES frames; the floor is D × 32 bytes.
"Envelope framing" is what those frames add to the envelopes (lengths, frame headers). Each
case runs with a new salt every round; the table shows the median bytes, the most round trips
seen, and the median CPU time of each side. The naive baseline sends every
32-byte id and answers with the ids missing; its CPU time is the reference for the ratios.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol.reconcile import (
    Finished,
    NeedData,
    ReceivedEnvelopes,
    SendEnvelopes,
    SyncSession,
    SyncStats,
)

ZONE = b"\x00\x00\x00\x01"
ENVELOPE = bytes(180)  # a typical envelope's size; its content does not matter here
CLUSTERED_GOAL = 1.5
SCATTERED_GOAL = 5.0
ROUND_TRIP_GOAL = 3


@dataclass
class Run:
    stats: SyncStats
    cpu: tuple[float, float]  # initiator, responder
    received: tuple[int, int]


def run_session(a_ids: Sequence[bytes], b_ids: Sequence[bytes], salt: bytes) -> Run:
    """Initiator a and responder b to the end; CPU time is each side's own calls."""
    sessions = (
        SyncSession(a_ids, zone=ZONE, initiator=True, salt=salt),
        SyncSession(b_ids, zone=ZONE, initiator=False),
    )
    inbox = [bytearray(), bytearray()]
    cpu = [0.0, 0.0]
    received = [0, 0]
    finished: list[SyncStats | None] = [None, None]
    while not all(finished):
        for me in (0, 1):
            session = sessions[me]
            while finished[me] is None:
                start = time.process_time()
                event = session.next_event()
                out = session.data_to_send()
                if isinstance(event, NeedData) and inbox[me]:
                    session.receive_data(bytes(inbox[me]))
                    inbox[me].clear()
                elif isinstance(event, SendEnvelopes):
                    session.send_envelopes([ENVELOPE] * len(event.ids))
                cpu[me] += time.process_time() - start
                inbox[1 - me] += out
                if isinstance(event, NeedData) and not out and not inbox[me]:
                    break
                if isinstance(event, ReceivedEnvelopes):
                    received[me] += len(event.raws)
                elif isinstance(event, Finished):
                    finished[me] = event.stats
    stats = finished[0]
    assert stats is not None
    return Run(stats, (cpu[0], cpu[1]), (received[0], received[1]))


def naive_baseline(a_ids: Sequence[bytes], b_ids: Sequence[bytes]) -> tuple[int, float]:
    """a sends all its ids, b answers with the ids it lacks: bytes and CPU time."""
    start = time.process_time()
    wire = b"".join(a_ids)
    theirs = {wire[k : k + 32] for k in range(0, len(wire), 32)}
    ours = set(b_ids)
    answer = b"".join(sorted(theirs - ours))
    missing_on_a = ours - theirs  # what b pushes unasked
    assert len(answer) // 32 + len(missing_on_a) >= 0
    return len(wire) + len(answer), time.process_time() - start


def workloads(count: int, diff: int, seed: int) -> dict[str, tuple[list[bytes], list[bytes]]]:
    # Ids in creation order (what a store sorted by time would list).
    ids = [hashlib.sha256(b"message %d" % k).digest() for k in range(count + diff)]
    rnd = random.Random(seed)
    picked = rnd.sample(range(count + diff), diff)
    missing_a, missing_b = set(picked[: diff // 2]), set(picked[diff // 2 :])
    scattered_a = [m for k, m in enumerate(ids) if k not in missing_a]
    scattered_b = [m for k, m in enumerate(ids) if k not in missing_b]
    behind, ahead = ids[:count], ids
    return {
        "clustered, initiator behind": (behind, ahead),
        "clustered, responder behind": (ahead, behind),
        "scattered (half each way)": (scattered_a, scattered_b),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 ids, 2 rounds")
    parser.add_argument("--ids", type=int, default=100_000, help="ids on each side")
    parser.add_argument("--diff", type=int, default=100, help="differences")
    parser.add_argument("--rounds", type=int, default=5, help="sessions per case")
    args = parser.parse_args(argv)
    count, rounds = (10_000, 2) if args.quick else (args.ids, args.rounds)
    floor = 32 * args.diff

    print(
        f"Catch-up reconciliation, {count:,} ids per side, {args.diff} differences "
        f"(floor {floor:,} B), {rounds} rounds; {platform.machine()}, "
        f"Python {platform.python_version()}\n"
    )
    naive = workloads(count, args.diff, 0)["scattered (half each way)"]
    naive_bytes, naive_cpu = naive_baseline(*naive)
    print(
        "| case | bytes | × floor | goal | round trips | flights | mode | cells "
        "| envelope framing | CPU initiator (s) | CPU responder (s) | CPU / naive |"
    )
    print("|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|")
    ok = True
    for name, (a_ids, b_ids) in workloads(count, args.diff, 1).items():
        runs = []
        for k in range(rounds):
            run = run_session(a_ids, b_ids, random.Random(k).randbytes(16))
            sa, sb = set(a_ids), set(b_ids)
            assert run.received == (len(sb - sa), len(sa - sb)), name
            runs.append(run)
        size = statistics.median(r.stats.reconciliation_bytes for r in runs)
        trips = max(r.stats.round_trips for r in runs)
        cpu_a = statistics.median(r.cpu[0] for r in runs)
        cpu_b = statistics.median(r.cpu[1] for r in runs)
        goal = CLUSTERED_GOAL if name.startswith("clustered") else SCATTERED_GOAL
        passed = size / floor <= goal and trips <= ROUND_TRIP_GOAL
        ok &= passed
        verdict = f"≤ {goal}×, ≤ {ROUND_TRIP_GOAL} RT: {'PASS' if passed else 'no'}"
        modes = "/".join(sorted({r.stats.mode for r in runs}))
        envelopes = runs[0].stats.envelopes_sent + runs[0].stats.envelopes_received
        framing = (
            runs[0].stats.envelope_bytes_sent
            + runs[0].stats.envelope_bytes_received
            - envelopes * len(ENVELOPE)
        )
        print(
            f"| {name} | {size:,.0f} | {size / floor:.2f} | {verdict} | {trips} "
            f"| {runs[0].stats.flights} | {modes} | {runs[0].stats.cells} | {framing} "
            f"| {cpu_a:.2f} | {cpu_b:.2f} | {max(cpu_a, cpu_b) / naive_cpu:.1f} |"
        )
    print(
        f"| naive: send all 32-byte ids, answer the missing ones | {naive_bytes:,} "
        f"| {naive_bytes / floor:.0f} |  | 1 | 2 |  |  |  | {naive_cpu:.2f} |  | 1.0 |"
    )
    print(
        "\nRound trips include the exchange of the envelopes (the last one-way flight does "
        "not count); the naive baseline's do not."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

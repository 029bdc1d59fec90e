"""Core benchmark: message sizes against the LoRa budget, and ingest throughput against the
raw Ed25519 verify rate measured in the same run.

Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_core.py [--quick] [--messages N] [--batch N]
        [--workers N] [--rounds N] [--profile]

Prints Markdown. Rates are reported as ratios to the raw PyNaCl verify rate (one thread),
measured in the same run, because these machines are shared and noisy (performance.md).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nacl
import nacl.signing

import node.store
from node.store import IngestResult, Store
from protocol.envelope import (
    SIGNING_CONTEXT,
    Envelope,
    Policy,
    decode,
    seal,
    verify_signature,
)
from protocol.kinds import (
    Alert,
    AlertOrigin,
    Body,
    Category,
    Certainty,
    CheckIn,
    CheckInStatus,
    Claim,
    Comment,
    HelpOffer,
    HelpRequest,
    Incident,
    IncidentType,
    Need,
    OfficialSource,
    Outcome,
    Point,
    RequestUrgency,
    Resolution,
    ResourcePoint,
    ResourceType,
    Retraction,
    Severity,
    Tip,
    TipType,
    Urgency,
)

NOW = 1_760_000_000
ZONE = b"\x00\x00\x00\x01"
REF = bytes(range(32))
CHECKIN_GOAL = 120
HELP_REQUEST_GOAL = 200
RATIO_GOAL = 0.75
TEXT_60 = "Plus d'eau potable depuis hier soir, deux enfants, rue haute"  # 60 characters
assert len(TEXT_60) == 60

# --- sizes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    label: str
    body: Body
    refs: tuple[bytes, ...] = ()
    goal: int | None = None


def size_samples() -> list[Sample]:
    """A typical minimal and a typical full message of each kind."""
    here = Point.from_degrees(45.18871, 5.72452)
    return [
        Sample("alert (minimal)", Alert(headline="Crue de l'Isère : montez aux étages")),
        Sample(
            "alert (official mirror)",
            Alert(
                headline="Vigilance rouge crues : Isère aval",
                severity=Severity.SEVERE,
                urgency=Urgency.IMMEDIATE,
                certainty=Certainty.LIKELY,
                category=Category.MET,
                instruction="Évitez les déplacements. Ne vous engagez pas sur une route inondée. "
                "Mettez-vous à l'abri en hauteur et suivez les consignes des autorités.",
                area="Grenoble, Saint-Martin-d'Hères, Échirolles",
                origin=AlertOrigin.OFFICIAL,
                official=OfficialSource(
                    source="vigicrues",
                    sender="vigicrues@developpement-durable.gouv.fr",
                    identifier="FR-VIGICRUES-2025-10-09T06:00-ISERE-AVAL",
                    sent=NOW - 3600,
                    digest=bytes(32),
                ),
            ),
        ),
        Sample("help request (minimal)", HelpRequest(need=Need.WATER)),
        Sample(
            "help request, 60 chars of text",
            HelpRequest(need=Need.WATER, text=TEXT_60),
            goal=HELP_REQUEST_GOAL,
        ),
        Sample(
            "help request (full)",
            HelpRequest(
                need=Need.MEDICATION,
                urgency=RequestUrgency.HIGH,
                people=3,
                vulnerable=True,
                place="12 rue des Lilas, bât. B",
                point=here,
                text="Insuline à garder au froid, plus de courant depuis 2 jours, "
                "frigo hors service. Quelqu'un a un groupe électrogène ?",
            ),
        ),
        Sample("help offer (minimal)", HelpOffer(what=Need.FIRST_AID, standing=True)),
        Sample(
            "help offer (full)",
            HelpOffer(
                what=Need.GENERATOR,
                capacity=4,
                place="Garage, 3 allée des Pins",
                point=here,
                text="Groupe 3 kW, je peux recharger téléphones et frigos le soir.",
            ),
        ),
        Sample("claim (minimal)", Claim(), refs=(REF,)),
        Sample("claim (full)", Claim(eta_minutes=30, text="J'arrive avec 20 L d'eau"), (REF,)),
        Sample("resolution (minimal)", Resolution(), refs=(REF,)),
        Sample(
            "resolution (full)",
            Resolution(outcome=Outcome.CANCELLED, text="Secours passés entre-temps, merci"),
            refs=(REF,),
        ),
        Sample("check-in (minimal)", CheckIn(status=CheckInStatus.SAFE), goal=CHECKIN_GOAL),
        Sample(
            "check-in (on behalf, full)",
            CheckIn(
                status=CheckInStatus.SHELTERING,
                subject_name="Mme Garnier, n°14",
                people=2,
                place="rue des Lilas",
                text="Vont bien, ont de l'eau pour 2 jours",
            ),
        ),
        Sample("incident (minimal)", Incident(type=IncidentType.TREE_DOWN)),
        Sample(
            "incident (full)",
            Incident(
                type=IncidentType.ROAD_BLOCKED,
                severity=Severity.SEVERE,
                place="Pont de la Porte de France",
                point=here,
                text="Pont fermé, 40 cm d'eau sur la chaussée côté quai. Passer par le pont "
                "Marius Gontard.",
            ),
        ),
        Sample(
            "resource point (minimal)",
            ResourcePoint(type=ResourceType.WATER_DISTRIBUTION, name="Gymnase Jean Jaurès"),
        ),
        Sample(
            "resource point (full)",
            ResourcePoint(
                type=ResourceType.CHARGING,
                name="Mairie annexe, salle 2",
                point=here,
                hours="8h-20h",
                text="Prises et lampes, apportez vos câbles",
            ),
        ),
        Sample("tip (minimal)", Tip(title="Gardez 6 L d'eau par personne")),
        Sample(
            "tip (drill notice)",
            Tip(
                title="Exercice d'alerte samedi 10h",
                type=TipType.DRILL,
                text="Exercice de quartier : la sirène sonnera 3 fois. Ce n'est pas une "
                "vraie alerte. Retrouvons-nous au gymnase pour faire le point.",
                language="fr",
                drill_start=NOW + 86400,
                drill_end=NOW + 90000,
            ),
        ),
        Sample("retraction (minimal)", Retraction(), refs=(REF,)),
        Sample("retraction (full)", Retraction(reason="Posté par erreur"), refs=(REF,)),
        Sample("comment", Comment(text="J'ai vu de l'eau monter aussi côté école"), (REF,)),
    ]


def sizes_table() -> tuple[list[str], bool]:
    key = nacl.signing.SigningKey(bytes(32))
    lines = [
        "| message (full 32-byte author key) | bytes | goal |",
        "|---|---:|---|",
    ]
    ok = True
    for sample in size_samples():
        env = seal(sample.body, signing_key=key, created=NOW, zone=ZONE, refs=sample.refs)
        goal = ""
        if sample.goal is not None:
            passed = len(env.raw) <= sample.goal
            ok &= passed
            goal = f"≤ {sample.goal}: {'PASS' if passed else 'FAIL'}"
        lines.append(f"| {sample.label} | {len(env.raw)} | {goal} |")
    return lines, ok


# --- the ingest workload --------------------------------------------------------------------


def warm_up_messages() -> list[bytes]:
    """A few messages outside the workload, to start a store's verifier process."""
    key = nacl.signing.SigningKey(b"\xee" * 32)
    return [
        seal(CheckIn(status=CheckInStatus.SAFE), signing_key=key, created=NOW - i, zone=ZONE).raw
        for i in range(64)
    ]


def workload(count: int, authors: int = 50) -> list[Envelope]:
    """``count`` unique messages of mixed kinds from ``authors`` keys, deterministic."""
    keys = [nacl.signing.SigningKey(i.to_bytes(32, "big")) for i in range(1, authors + 1)]
    needs = [Need.WATER, Need.FOOD, Need.MEDICAL, Need.SHELTER, Need.POWER]
    out: list[Envelope] = []
    requests: list[bytes] = []
    for i in range(count):
        key = keys[i % authors]
        created = NOW - 3600 + i // authors  # unique per author: no two messages alike
        kind = i % 10
        refs: tuple[bytes, ...] = ()
        body: Body
        if kind <= 2:
            body = CheckIn(status=CheckInStatus.SAFE if i % 3 else CheckInStatus.NO_POWER)
        elif kind <= 4:
            body = HelpRequest(need=needs[i % len(needs)], text=f"{TEXT_60[:40]} #{i}")
        elif kind == 5:
            body = HelpOffer(what=needs[i % len(needs)], place=f"rue {i % 97}")
        elif kind == 6 and requests:
            body, refs = Claim(eta_minutes=15), (requests[i % len(requests)],)
        elif kind == 7:
            body = Incident(type=IncidentType.FLOODING, text=f"Eau dans la rue {i % 89}")
        elif kind == 8 and requests:
            body, refs = Comment(text=f"Je passe vers {i % 24} h"), (requests[-1],)
        else:
            body = CheckIn(status=CheckInStatus.SHELTERING, people=1 + i % 5)
        env = seal(body, signing_key=key, created=created, zone=ZONE, refs=refs)
        if env.kind.name == "HELP_REQUEST":
            requests.append(env.id)
        out.append(env)
    return out


def timings_of(rounds: int, runs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """``rounds`` timings (seconds) of each run. The runs take turns, so that a burst of load
    elsewhere hits all of them alike; consecutive runs make the pairs compared below."""
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            timings[name].append(run())
    return timings


VerifyWork = list[tuple[nacl.signing.VerifyKey, bytes, bytes]]


def raw_verify_work(envs: Sequence[Envelope]) -> VerifyWork:
    keys = {e.author: nacl.signing.VerifyKey(e.author) for e in envs}
    return [(keys[e.author], SIGNING_CONTEXT + e.raw[:-64], e.signature) for e in envs]


def verify_all(work: VerifyWork) -> None:
    for key, message, signature in work:
        key.verify(message, signature)


def time_raw_verify(work: VerifyWork) -> float:
    start = time.perf_counter()
    verify_all(work)
    return time.perf_counter() - start


def time_threaded_verify(work: VerifyWork, pool: ThreadPoolExecutor, threads: int) -> float:
    """Raw verify spread over threads: how much parallelism the machine offers right now."""
    size = -(-len(work) // (4 * threads))
    chunks = [work[i : i + size] for i in range(0, len(work), size)]
    start = time.perf_counter()
    list(pool.map(verify_all, chunks))
    return time.perf_counter() - start


def time_protocol_verify(envs: Sequence[Envelope]) -> float:
    start = time.perf_counter()
    for env in envs:
        verify_signature(env)
    return time.perf_counter() - start


def time_decode(raws: Sequence[bytes]) -> float:
    start = time.perf_counter()
    for raw in raws:
        decode(raw, verify=False)
    return time.perf_counter() - start


def ingest_into_fresh_store(
    raws: Sequence[bytes], batch: int, workers: int | None, *, repeat: bool = False
) -> float:
    """Seconds to ingest ``raws`` into a new store (``repeat``: a second time, all duplicates)."""
    with (
        tempfile.TemporaryDirectory(prefix="entraide-bench-") as tmp,
        Store.open(Path(tmp) / "store.sqlite3", verify_workers=workers) as store,
    ):
        # Start the verifier process outside the timing: a node starts it once, on the
        # first large ingest of its life (its start-up is reported separately).
        store.ingest(WARM_UP, now=NOW, policy=Policy())
        if repeat:
            ingest_all(store, raws, batch)
        start = time.perf_counter()
        results = ingest_all(store, raws, batch)
        elapsed = time.perf_counter() - start
        expected = "duplicate" if repeat else "new"
        unexpected = [r for r in results if r.status != expected]
        assert not unexpected, f"benchmark data: {unexpected[0]}"
    return elapsed


def time_verifier_start() -> float:
    """Seconds from a new store to the end of its first ingest that uses the helper."""
    with tempfile.TemporaryDirectory(prefix="entraide-bench-") as tmp:
        start = time.perf_counter()
        with Store.open(Path(tmp) / "store.sqlite3") as store:
            store.ingest(WARM_UP, now=NOW, policy=Policy())
            return time.perf_counter() - start


def ingest_without_verify(raws: Sequence[bytes], batch: int) -> float:
    """Ingest with signature checks stubbed out: what decoding, checks and SQLite cost."""
    with mock.patch.object(node.store, "signature_valid", lambda raw: True):
        return ingest_into_fresh_store(raws, batch, 0)


def ingest_all(store: Store, raws: Sequence[bytes], batch: int) -> list[IngestResult]:
    results: list[IngestResult] = []
    for i in range(0, len(raws), batch):
        results.extend(store.ingest(raws[i : i + batch], now=NOW, policy=Policy()))
    return results


def profile_ingest(raws: Sequence[bytes], batch: int, workers: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="entraide-bench-") as tmp,
        Store.open(Path(tmp) / "store.sqlite3", verify_workers=workers) as store,
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        ingest_all(store, raws, batch)
        profiler.disable()
    print(f"\n### cProfile of ingest (verify_workers={workers}), by internal time\n")
    print("```")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(18)
    print("```")


WARM_UP = warm_up_messages()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--messages", type=int, help="messages to ingest (default 20000)")
    parser.add_argument("--batch", type=int, default=500, help="messages per ingest call")
    parser.add_argument(
        "--threads", type=int, default=2, help="threads for the raw parallel verify figure"
    )
    parser.add_argument("--rounds", type=int, help="runs of each measurement (best is kept)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of ingest")
    args = parser.parse_args(argv)
    count = args.messages or (2000 if args.quick else 20000)
    rounds = args.rounds or (1 if args.quick else 3)

    print("# entraide core benchmark\n")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs ({affinity} usable), "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PyNaCl {nacl.__version__}"
    )
    print(f"- {count} messages, batches of {args.batch}, best of {rounds} runs\n")

    print("## Message sizes\n")
    lines, sizes_ok = sizes_table()
    print("\n".join(lines))

    envs = workload(count)
    raws = [e.raw for e in envs]
    mean_size = statistics.fmean(len(r) for r in raws)

    work = raw_verify_work(envs)
    with ThreadPoolExecutor(args.threads) as pool:
        timings = timings_of(
            rounds,
            {
                "raw": lambda: time_raw_verify(work),
                "helper": lambda: ingest_into_fresh_store(raws, args.batch, None),
                "threaded": lambda: time_threaded_verify(work, pool, args.threads),
                "protocol": lambda: time_protocol_verify(envs),
                "decode": lambda: time_decode(raws),
                "no-verify": lambda: ingest_without_verify(raws, args.batch),
                "inline": lambda: ingest_into_fresh_store(raws, args.batch, 0),
                "dupes": lambda: ingest_into_fresh_store(raws, args.batch, None, repeat=True),
                "start": time_verifier_start,
            },
        )

    best = {name: min(times) for name, times in timings.items()}
    # The same ratio, pair by pair: each ingest run against the verify run just before it.
    paired = sorted(r / h for r, h in zip(timings["raw"], timings["helper"], strict=True))

    def rate(seconds: float) -> float:
        return count / seconds

    def us(seconds: float) -> float:
        return seconds / count * 1e6

    base = rate(best["raw"])
    print(f"\n## Ingest throughput (mean envelope {mean_size:.0f} bytes)\n")
    print("| step | µs/message | messages/s | ratio to raw verify | goal |")
    print("|---|---:|---:|---:|---|")
    rows: list[tuple[str, str, str]] = [
        ("raw PyNaCl verify, 1 thread (baseline)", "raw", ""),
        (f"raw PyNaCl verify, {args.threads} threads (the machine's parallelism)", "threaded", ""),
        ("protocol verify_signature, 1 thread", "protocol", ""),
        ("decode only (verify=False)", "decode", ""),
        ("ingest with signature checks stubbed out (decode, checks, SQLite)", "no-verify", ""),
        ("ingest, signatures checked inline (verify_workers=0)", "inline", "info"),
        ("ingest, signatures checked by helper processes (default: 2)", "helper", "goal"),
        ("ingest of duplicates (default)", "dupes", ""),
    ]
    ingest_ok = True
    for label, key, kind in rows:
        seconds = best[key]
        ratio = rate(seconds) / base
        goal = ""
        if kind == "goal":
            ingest_ok = ratio >= RATIO_GOAL
            goal = f"≥ {RATIO_GOAL}: {'PASS' if ingest_ok else 'FAIL'}"
        elif kind == "info":
            goal = f"(≥ {RATIO_GOAL}: {'yes' if ratio >= RATIO_GOAL else 'no'})"
        print(f"| {label} | {us(seconds):.1f} | {rate(seconds):,.0f} | {ratio:.2f} | {goal} |")

    print(
        f"\nPaired ratio (each ingest run against the raw verify run just before it): "
        f"median {statistics.median(paired):.2f}, range {paired[0]:.2f}–{paired[-1]:.2f} "
        f"over {len(paired)} pairs."
    )
    print(
        f"\nStarting the verifier process (once per node, on its first large ingest): "
        f"{best['start'] * 1000:.0f} ms."
    )
    if args.profile:
        profile_ingest(raws, args.batch, 0)
    return 0 if sizes_ok and ingest_ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing the receiving side: whatever the bytes, only a PeerError may come out.

More than 100,000 random and mutated envelopes (bit flips, byte changes, insertions and
deletions, truncations, splices of two envelopes, corrupted CBOR length fields, random CBOR
items, random envelope-shaped content signed with a real key so that it gets past the
signature) are fed to ``protocol.envelope.accept``, and mutated bundles to
``protocol.bundle.iter_bundle`` (each record then to ``accept``). Any exception other than a
``PeerError`` subclass fails the test with the input's hex.

Reproducible: everything comes from one seeded ``random.Random``. Run with ``-s`` to see the
count and the distribution of error classes.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from protocol.bundle import MAGIC, encode_bundle, iter_bundle
from protocol.encoding import decode_canonical, encode_canonical
from protocol.envelope import SIGNING_CONTEXT, Policy, accept
from protocol.errors import PeerError

pytestmark = pytest.mark.slow

SEED = 0x5EED_F022
VECTORS = json.loads(Path(__file__).with_name("vectors.json").read_text(encoding="utf-8"))
CORPUS = [bytes.fromhex(v["envelope"]) for v in VECTORS["valid"]]
NOW = VECTORS["now"]
KEYS = {
    bytes.fromhex(k["public"]): nacl.signing.SigningKey(bytes.fromhex(k["seed"]))
    for k in VECTORS["keys"].values()
}
ALICE = next(iter(KEYS.values()))
POLICY = Policy(bridge_keys=frozenset({bytes.fromhex(VECTORS["keys"]["bridge"]["public"])}))

#: How many inputs each generator makes (at least 100,000 envelopes in all).
PLAN = {
    "bit_flip": 15_000,
    "byte_set": 10_000,
    "insert": 8_000,
    "delete": 8_000,
    "truncate": 6_000,
    "splice": 8_000,
    "length_field": 10_000,
    "random_cbor": 10_000,
    "signed_content": 30_000,
    "resigned_mutant": 15_000,
    "random_bytes": 5_000,
}
BUNDLES = 4_000

INTERESTING_BYTES = [
    0x00, 0x01, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1F, 0x20, 0x38, 0x40, 0x58, 0x5F,
    0x60, 0x78, 0x7F, 0x80, 0x98, 0x9F, 0xA0, 0xB8, 0xBF, 0xC0, 0xC1, 0xC2, 0xD8, 0xD9,
    0xE0, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFF,
]  # fmt: skip
INTERESTING_INTS = [
    0, 1, 2, 6, 10, 11, 12, 13, 14, 23, 24, 99, 255, 256, 999, 1000, 1440, 4320, 10080,
    65535, 65536, 527040, 1_704_067_199, 1_704_067_200, NOW - 86_400, NOW, NOW + 600,
    NOW + 601, 2**31, 2**32 - 1, 2**32, 2**63, 2**64 - 1, -1, -24, -25, -(2**63), -(2**64),
]  # fmt: skip
ARGS = [i for i in INTERESTING_INTS if 0 <= i < 2**64]
TEXTS = [
    "", " ", "x", "Crue", "é" * 24, "é" * 25, "a" * 140, "a" * 141, "a" * 281, "a\nb",
    "a\rb", "a\tb", "\x00", "\x1b[2J", "\x85", "\u202egpj.exe", "\u2066x\u2069", "\u061c",
    "\ufeff", "🌊" * 10, "\u3000", "\n", "x" * 1001,
]  # fmt: skip


def cbor_heads(data: bytes, pos: int, out: list[tuple[int, int]]) -> int:
    """Record (offset, size) of every CBOR head of the canonical item at ``pos``."""
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    extra = {24: 1, 25: 2, 26: 4, 27: 8}.get(info, 0)
    arg = int.from_bytes(data[pos + 1 : pos + 1 + extra], "big") if extra else info
    out.append((pos, 1 + extra))
    pos += 1 + extra
    if major in (2, 3):
        pos += arg
    elif major == 4:
        for _ in range(arg):
            pos = cbor_heads(data, pos, out)
    elif major == 5:
        for _ in range(2 * arg):
            pos = cbor_heads(data, pos, out)
    elif major == 6:
        pos = cbor_heads(data, pos, out)
    return pos


HEADS = []
for _raw in CORPUS:
    assert _raw[7:39] in KEYS
    _found: list[tuple[int, int]] = []
    assert cbor_heads(_raw, 1, _found) == len(_raw) - 64
    HEADS.append(_found)


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # --- helpers ---------------------------------------------------------------------------

    def pick(self) -> tuple[int, bytes]:
        i = self.rng.randrange(len(CORPUS))
        return i, CORPUS[i]

    def some_bytes(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def head(self, major: int, arg: int) -> bytes:
        if arg < 24:
            return bytes([major << 5 | arg])
        for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if arg < 1 << (8 * width):
                return bytes([major << 5 | info]) + arg.to_bytes(width, "big")
        raise ValueError(arg)

    def sign(self, signed: bytes, key: nacl.signing.SigningKey = ALICE) -> bytes:
        return signed + key.sign(SIGNING_CONTEXT + signed).signature

    # --- mutations of valid envelopes ------------------------------------------------------

    def bit_flip(self) -> bytes:
        _, raw = self.pick()
        data = bytearray(raw)
        for _ in range(self.rng.choice((1, 1, 1, 2, 3, 8))):
            bit = self.rng.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        return bytes(data)

    def byte_set(self) -> bytes:
        _, raw = self.pick()
        data = bytearray(raw)
        pos = self.rng.randrange(len(data) - 64) if self.rng.random() < 0.8 else None
        pos = self.rng.randrange(len(data)) if pos is None else pos
        data[pos] = self.rng.choice([*INTERESTING_BYTES, self.rng.getrandbits(8)])
        return bytes(data)

    def insert(self) -> bytes:
        _, raw = self.pick()
        pos = self.rng.randrange(len(raw) + 1)
        return raw[:pos] + self.some_bytes(self.rng.randint(1, 4)) + raw[pos:]

    def delete(self) -> bytes:
        _, raw = self.pick()
        pos = self.rng.randrange(len(raw))
        return raw[:pos] + raw[pos + self.rng.randint(1, 4) :]

    def truncate(self) -> bytes:
        _, raw = self.pick()
        return raw[: self.rng.randrange(len(raw))]

    def splice(self) -> bytes:
        _, a = self.pick()
        _, b = self.pick()
        return a[: self.rng.randrange(len(a) + 1)] + b[self.rng.randrange(len(b) + 1) :]

    def length_field(self) -> bytes:
        """Corrupt the argument (a length, a count or an integer) of one CBOR head."""
        i, raw = self.pick()
        pos, size = self.rng.choice(HEADS[i])
        major = raw[pos] >> 5
        choice = self.rng.randrange(6)
        if choice == 0:  # another value of the same width
            new = bytes([raw[pos]]) + self.some_bytes(size - 1)
            if size == 1:
                new = bytes([major << 5 | self.rng.randrange(24)])
        elif choice == 1:  # off by one
            arg = raw[pos] & 0x1F if size == 1 else int.from_bytes(raw[pos + 1 : pos + size])
            new = self.head(major, max(0, arg + self.rng.choice((-1, 1))))
        elif choice == 2:  # a wider, non-shortest argument
            arg = raw[pos] & 0x1F if size == 1 else int.from_bytes(raw[pos + 1 : pos + size])
            width = self.rng.choice((1, 2, 4, 8))
            new = bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[width]])
            new += arg.to_bytes(width, "big") if arg < 1 << (8 * width) else b"\xff" * width
        elif choice == 3:  # indefinite length
            new = bytes([major << 5 | 31])
        elif choice == 4:  # reserved additional information
            new = bytes([major << 5 | self.rng.choice((28, 29, 30))])
        else:  # a huge argument
            new = bytes([major << 5 | 27]) + self.some_bytes(8)
        data = raw[:pos] + new + raw[pos + size :]
        if self.rng.random() < 0.5:  # re-sign, so the signature is not what refuses it
            data = self.sign(data[:-64], KEYS.get(raw[7:39], ALICE))
        return data

    def resigned_mutant(self) -> bytes:
        """A bit flip or byte change in the content, then correctly signed again."""
        _, raw = self.pick()
        signed = bytearray(raw[:-64])
        pos = self.rng.randrange(1, len(signed))
        if self.rng.random() < 0.5:
            signed[pos] ^= 1 << self.rng.randrange(8)
        else:
            signed[pos] = self.rng.choice(INTERESTING_BYTES)
        author = bytes(signed[7:39])
        return self.sign(bytes(signed), KEYS.get(author, ALICE))

    # --- generated inputs ------------------------------------------------------------------

    def cbor_item(self, depth: int = 0) -> bytes:
        """A random CBOR item, often outside the protocol's data model."""
        r = self.rng.random()
        if depth > 6 or r < 0.3:
            return self.head(self.rng.choice((0, 1)), self.rng.choice(ARGS))
        if r < 0.4:
            n = self.rng.choice((0, 1, 4, 32, 33))
            return self.head(2, n) + self.some_bytes(n)
        if r < 0.5:
            text = self.rng.choice(TEXTS).encode("utf-8")
            return self.head(3, len(text)) + text
        if r < 0.6:
            items = [self.cbor_item(depth + 1) for _ in range(self.rng.randrange(4))]
            if self.rng.random() < 0.1:
                return b"\x9f" + b"".join(items) + b"\xff"
            return self.head(4, len(items)) + b"".join(items)
        if r < 0.75:
            n = self.rng.randrange(6)
            keys = [self.rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 23, 24)) for _ in range(n)]
            if self.rng.random() < 0.8:
                keys = sorted(set(keys))
            body = b"".join(self.head(0, k) + self.cbor_item(depth + 1) for k in keys)
            if self.rng.random() < 0.1:
                return b"\xbf" + body + b"\xff"
            return self.head(5, len(keys)) + body
        if r < 0.85:
            tag = self.rng.choice((0, 1, 2, 3, 24, 28, 29, 35, 37, 258, 55799, 2**64 - 1))
            return self.head(6, tag) + self.cbor_item(depth + 1)
        return self.rng.choice(
            [b"\xf4", b"\xf5", b"\xf6", b"\xf7", b"\xf9\x3c\x00", b"\xfa\x7f\xc0\x00\x00",
             b"\xfb" + self.some_bytes(8), b"\xf8\x20", b"\xe0", b"\xff", b"\x1c"]
        )  # fmt: skip

    def random_cbor(self) -> bytes:
        content = self.cbor_item()
        if self.rng.random() < 0.5:
            return self.sign(b"\x01" + content)
        return b"\x01" + content + self.some_bytes(64)

    def model_value(self, depth: int = 0) -> Any:
        """A random value inside the data model (so that it can be encoded)."""
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice(INTERESTING_INTS)
        if r < 0.55:
            return self.rng.choice(TEXTS)
        if r < 0.7:
            return self.some_bytes(self.rng.choice((0, 1, 4, 31, 32, 33)))
        if r < 0.8:
            return self.rng.random() < 0.5
        if r < 0.9 and depth < 2:
            return [self.model_value(depth + 1) for _ in range(self.rng.randrange(4))]
        if depth < 2:
            return {
                self.rng.randrange(24): self.model_value(depth + 1)
                for _ in range(self.rng.randrange(4))
            }
        return 0

    def signed_content(self) -> bytes:
        """Envelope-shaped content, canonically encoded and correctly signed.

        Starts from a valid envelope's content and perturbs it, so that most inputs get
        past the structure checks and exercise the kinds' rules and the receiver rules.
        """
        _, raw = self.pick()
        content = decode_canonical(raw[1:-64], max_size=2048)
        for _ in range(self.rng.randint(1, 3)):
            target = content
            if 6 in content and type(content[6]) is dict and self.rng.random() < 0.6:
                target = content[6]
            op = self.rng.randrange(4)
            key = self.rng.randrange(24 if self.rng.random() < 0.2 else 12)
            if op == 0 or not target:
                target[key] = self.model_value()
            elif op == 1:
                del target[self.rng.choice(list(target))]
            elif op == 2:
                existing = self.rng.choice(list(target))
                target[existing] = self.model_value()
            else:
                existing = self.rng.choice(list(target))
                if type(target[existing]) is int:
                    target[existing] = self.rng.choice(INTERESTING_INTS)
                else:
                    target[existing] = self.model_value()
        if self.rng.random() < 0.3:
            content[2] = self.rng.choice(INTERESTING_INTS[22:30])
        if self.rng.random() < 0.2:  # the same content by another known key
            content[1] = self.rng.choice(list(KEYS))
        author = content.get(1)
        key = KEYS.get(author, ALICE) if type(author) is bytes else ALICE
        return self.sign(b"\x01" + encode_canonical(content), key)

    def random_bytes(self) -> bytes:
        n = self.rng.choice((0, 1, 2, 65, 66, 67, 100, 200, 2048, 2049, self.rng.randrange(300)))
        data = self.some_bytes(n)
        if data and self.rng.random() < 0.7:
            data = b"\x01" + data[1:]
        return data

    # --- bundles ---------------------------------------------------------------------------

    def bundle(self, generators: list[Callable[[], bytes]]) -> bytes:
        records = []
        for _ in range(self.rng.randrange(6)):
            raw = (
                self.rng.choice(CORPUS)
                if self.rng.random() < 0.5
                else self.rng.choice(generators)()
            )
            if 0 < len(raw) <= 2048:
                records.append(raw)
        data = bytearray(encode_bundle(records))
        for _ in range(self.rng.randrange(4)):
            op = self.rng.randrange(5)
            if op == 0 and data:
                data[self.rng.randrange(len(data))] ^= 1 << self.rng.randrange(8)
            elif op == 1:
                data = data[: self.rng.randrange(len(data) + 1)]
            elif op == 2:
                pos = self.rng.randrange(min(len(MAGIC), len(data)), len(data) + 1)
                data[pos:pos] = self.rng.randrange(65536).to_bytes(2, "big")
            elif op == 3 and len(data) > len(MAGIC) + 2:
                pos = self.rng.randrange(len(MAGIC), len(data) - 1)
                data[pos : pos + 2] = self.rng.choice((0, 1, 2048, 2049, 65535)).to_bytes(2, "big")
            else:
                data += self.some_bytes(self.rng.randrange(4))
        return bytes(data)


def run_accept(data: bytes, outcomes: Counter[str], failures: list[str], origin: str) -> None:
    try:
        env = accept(data, now=NOW, policy=POLICY)
    except PeerError as exc:
        outcomes[type(exc).__name__] += 1
        return
    except Exception as exc:  # a bug: report the input
        failures.append(f"{origin}: {type(exc).__name__}: {exc} <- {data.hex()}")
        return
    if env.raw != data:
        failures.append(f"{origin}: accepted, but raw differs <- {data.hex()}")
    outcomes["accepted"] += 1


def test_fuzz_accept_and_iter_bundle() -> None:
    fuzzer = Fuzzer(SEED)
    generators = {name: getattr(fuzzer, name) for name in PLAN}
    outcomes: Counter[str] = Counter()
    per_generator: dict[str, Counter[str]] = {}
    failures: list[str] = []
    start = time.perf_counter()

    total = 0
    schedule = [name for name, count in PLAN.items() for _ in range(count)]
    fuzzer.rng.shuffle(schedule)
    for name in schedule:
        data = generators[name]()
        counter = per_generator.setdefault(name, Counter())
        before = outcomes.copy()
        run_accept(data, outcomes, failures, name)
        counter.update(outcomes - before)
        total += 1

    bundle_outcomes: Counter[str] = Counter()
    records = 0
    gens = list(generators.values())
    for _ in range(BUNDLES):
        data = fuzzer.bundle(gens)
        try:
            for record in iter_bundle(data):
                records += 1
                run_accept(record, outcomes, failures, "bundle record")
        except PeerError as exc:
            bundle_outcomes[type(exc).__name__] += 1
        except Exception as exc:
            failures.append(f"iter_bundle: {type(exc).__name__}: {exc} <- {data.hex()}")
        else:
            bundle_outcomes["read to the end"] += 1

    elapsed = time.perf_counter() - start
    print(f"\nfuzz (seed {SEED:#x}): {total} envelopes + {BUNDLES} bundles ({records} records)")
    print(f"  {total + records} calls to accept in {elapsed:.1f} s")
    width = max(len(k) for k in outcomes)
    for name, count in outcomes.most_common():
        print(f"  {name:<{width}} {count:>7}  {100 * count / (total + records):5.1f} %")
    print("  bundles: " + ", ".join(f"{k} {v}" for k, v in bundle_outcomes.most_common()))
    for name, counter in per_generator.items():
        top = ", ".join(f"{k} {v}" for k, v in counter.most_common(4))
        print(f"  {name:<16} {top}")

    assert total >= 100_000
    assert not failures, f"{len(failures)} inputs raised a non-PeerError:\n" + "\n".join(
        failures[:10]
    )
    # The fuzzer must reach every stage, or it tests less than it claims.
    for stage in (
        "Truncated",
        "Oversize",
        "NonCanonical",
        "UnsupportedVersion",
        "DecodeError",
        "InvalidMessage",
        "UnknownKind",
        "BadSignature",
        "ExpiredMessage",
        "FutureMessage",
        "Unauthorized",
    ):
        assert outcomes[stage] > 0, stage
    assert outcomes["accepted"] > 0

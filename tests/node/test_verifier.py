"""The signature helper processes: right answers, in order, whatever happens to a helper."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator

import nacl.signing
import pytest

from node.verifier import SignatureVerifier
from protocol.envelope import seal, signature_valid
from protocol.kinds import CheckIn, CheckInStatus

KEY = nacl.signing.SigningKey(b"\x07" * 32)
T0 = 1_780_000_000


def batch(count: int, forged_every: int = 7) -> tuple[list[bytes], list[bool]]:
    """``count`` envelopes, every ``forged_every``-th one with a flipped signature byte
    (0: none forged, 1: all forged)."""
    raws: list[bytes] = []
    for i in range(count):
        raw = seal(
            CheckIn(status=CheckInStatus.SAFE, people=i % 50),
            signing_key=KEY,
            created=T0 + i,
            zone=b"\x00\x00\x00\x01",
        ).raw
        if forged_every and i % forged_every == min(3, forged_every - 1):
            raw = raw[:-1] + bytes([raw[-1] ^ 1])
        raws.append(raw)
    return raws, [signature_valid(raw) for raw in raws]


@pytest.fixture
def verifier() -> Iterator[SignatureVerifier]:
    v = SignatureVerifier(processes=2)
    yield v
    v.close()


def flatten(parts: Iterable[list[bool]]) -> list[bool]:
    return [flag for part in parts for flag in part]


def test_answers_match_in_process_verification(verifier: SignatureVerifier) -> None:
    raws, expected = batch(101)
    assert False in expected and True in expected
    parts = list(verifier.check(raws, 16))
    assert [len(p) for p in parts] == [16] * 6 + [5]
    assert flatten(parts) == expected
    # The helpers stay up for the next batch.
    assert flatten(verifier.check(raws[:40], 8)) == expected[:40]


def test_a_helper_killed_mid_batch_is_replaced_by_local_checks(
    verifier: SignatureVerifier,
) -> None:
    raws, expected = batch(64)
    flatten(verifier.check(raws[:4], 2))  # start the helpers
    answers = verifier.check(raws, 8)
    first = next(answers)
    for helper in verifier._helpers:
        helper.process.kill()
    assert first + flatten(answers) == expected
    assert flatten(verifier.check(raws, 8)) == expected  # helpers started again


def test_an_abandoned_batch_leaves_no_stale_answers(verifier: SignatureVerifier) -> None:
    raws, expected = batch(64)
    answers = verifier.check(raws, 8)
    next(answers)
    answers.close()  # the caller gave up half-way (an exception in the store, say)
    other, other_expected = batch(48, forged_every=5)
    assert flatten(verifier.check(other, 8)) == other_expected
    assert other_expected != expected[:48]


def test_close_is_idempotent_and_stops_the_processes() -> None:
    verifier = SignatureVerifier(processes=1)
    raws, expected = batch(20)
    assert flatten(verifier.check(raws, 10)) == expected
    processes = [helper.process for helper in verifier._helpers]
    verifier.close()
    verifier.close()
    assert all(not p.is_alive() for p in processes)


def test_a_batch_abandoned_before_its_first_answer_leaves_no_stale_answers(
    verifier: SignatureVerifier,
) -> None:
    good, good_expected = batch(64, forged_every=0)
    assert all(good_expected)
    verifier.check(good, 8).close()  # the caller failed before reading anything
    forged, forged_expected = batch(64, forged_every=1)
    assert not any(forged_expected)
    assert flatten(verifier.check(forged, 8)) == forged_expected


def test_a_helper_that_stops_answering_is_given_up() -> None:
    verifier = SignatureVerifier(processes=1, answer_timeout=30)
    try:
        raws, expected = batch(64)
        flatten(verifier.check(raws[:4], 2))  # start the helper (slow on a loaded machine)
        verifier._answer_timeout = 0.5  # then give up quickly on a helper that stalls
        (helper,) = verifier._helpers
        os.kill(helper.process.pid, signal.SIGSTOP)
        try:
            assert flatten(verifier.check(raws, 8)) == expected
        finally:
            with contextlib.suppress(ProcessLookupError):  # it was killed: as it should be
                os.kill(helper.process.pid, signal.SIGCONT)
        assert helper not in verifier._helpers
    finally:
        verifier.close()

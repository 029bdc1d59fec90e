"""Fixtures of the terminal app's tests: a real node in a subprocess, a scripted one."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tui_scenario, for the test modules

from tui_scenario import FakeNode, RealNode, make_home, neighbourhood


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dates on screen in UTC, whatever the machine's time zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def real_node() -> Iterator[RealNode]:
    """``entraide node --offline`` with the scenario's household key, seeded with the
    scenario's neighbourhood dated now."""
    home = make_home()
    node = RealNode(home).start()
    try:
        node.submit(neighbourhood(int(time.time())))
        yield node
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def fake_node() -> FakeNode:
    return FakeNode()

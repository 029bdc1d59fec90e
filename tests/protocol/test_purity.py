"""protocol/ is pure: no I/O, no clock, no threads, no randomness, no imports of the shells.

Everything it needs from the outside world (time, randomness, keys) is passed in as a
parameter, so the same code runs in the node, in tests and in a simulator.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROTOCOL = Path(__file__).resolve().parents[2] / "protocol"

#: Top-level modules protocol/ may import: computation only.
ALLOWED = {
    "__future__",
    "abc",
    "cbor2",
    "collections",
    "dataclasses",
    "enum",
    "functools",
    "hashlib",
    "math",
    "nacl",
    "re",
    "string",
    "struct",
    "types",
    "typing",
    "unicodedata",
}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(PROTOCOL.glob("*.py")), ids=lambda p: p.name)
def test_protocol_imports_only_pure_modules(path: Path) -> None:
    forbidden = imported_modules(path) - ALLOWED
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}: protocol/ must stay pure"


def test_the_check_catches_an_impure_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import time\nfrom node.store import Store\nfrom . import kinds\n")
    assert imported_modules(sample) - ALLOWED == {"time", "node"}

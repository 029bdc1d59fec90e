"""Child process of test_crash_safety.py: ingest a bundle in batches, acknowledging each.

    python crash_ingest_worker.py STORE BUNDLE NOW BATCH

After each ``Store.ingest`` call returns (i.e. after its COMMIT), prints the hex ids of the
messages now stored (new, or there already from an earlier run), one per line, and flushes:
a line on stdout is a promise that the message is durable. The parent kills this process
with SIGKILL at an arbitrary moment.
"""

from __future__ import annotations

import sys
from pathlib import Path

from node.store import Store
from protocol.bundle import iter_bundle
from protocol.envelope import Policy


def main(argv: list[str]) -> int:
    store_path, bundle_path, now_text, batch_text = argv
    raws = list(iter_bundle(Path(bundle_path).read_bytes()))
    now, batch = int(now_text), int(batch_text)
    out = sys.stdout
    with Store.open(Path(store_path)) as store:
        for start in range(0, len(raws), batch):
            results = store.ingest(raws[start : start + batch], now=now, policy=Policy())
            bad = [r for r in results if r.status == "rejected"]
            if bad:
                print(f"unexpected result: {bad[0]}", file=sys.stderr)
                return 1
            out.write("".join(f"{r.id.hex()}\n" for r in results if r.id is not None))
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

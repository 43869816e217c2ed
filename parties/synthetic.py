"""Synthetic datasets for demos, tests and benchmarks (never secret: numpy's PRNG is fine here).

    python -m parties.synthetic values --parties 3 --rows 1000 --out DIR [--bits B] [--seed S]

writes `party-<i>-values.csv` (columns `id,value`, signed integers with |value| < 2^bits) for each
party and prints the plaintext answers secure_sum must reproduce, as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def write_values(out: Path, parties: int, rows: int, bits: int, seed: int) -> dict[str, object]:
    """Write each party's `values` CSV; return the plaintext element-wise sum and total."""
    out.mkdir(parents=True, exist_ok=True)
    generator = np.random.default_rng(seed)
    limit = 2**bits
    columns = [
        generator.integers(-limit + 1, limit, size=rows, dtype=np.int64) for _ in range(parties)
    ]
    ids = np.arange(rows)
    for party, values in enumerate(columns):
        table = np.column_stack([ids, values])
        path = out / f"party-{party}-values.csv"
        np.savetxt(path, table, fmt="%d", delimiter=",", header="id,value", comments="")
    elementwise = np.sum(np.stack(columns).astype(object), axis=0)
    return {"rows": rows, "parties": parties, "total": int(elementwise.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m parties.synthetic")
    sub = parser.add_subparsers(dest="kind", required=True)
    values = sub.add_parser("values", help="one integer column per party, for secure_sum")
    values.add_argument("--parties", type=int, default=3)
    values.add_argument("--rows", type=int, default=1000)
    values.add_argument("--bits", type=int, default=40)
    values.add_argument("--seed", type=int, default=1)
    values.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    summary = write_values(args.out, args.parties, args.rows, args.bits, args.seed)
    print(json.dumps({"wrote": str(args.out), **summary}))


if __name__ == "__main__":
    main()

"""Shared by the peer drivers (run inside each peer's own venv: numpy and the standard library).

- `arguments()`: the command line every driver takes (`--workload --size --parties --protocol
  --seed --bits`, plus `--party` and `--port` for the processes a driver starts itself);
- `column(seed, party, size, bits)`: the inputs, uniform in (-2^bits, 2^bits) like ours;
- `tcp_bytes()`: wire bytes this process sent and received on its TCP sockets so far, read from
  the kernel (TCP_INFO), so every peer is counted the same way whatever its transport;
- `report(...)`: the one JSON line the harness reads.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
from typing import Any

import numpy as np

TCPI_BYTES_ACKED = 120  # offsets in struct tcp_info (linux/tcp.h)
TCPI_BYTES_RECEIVED = 128


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--parties", type=int, required=True)
    parser.add_argument("--protocol", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bits", type=int, default=36)
    parser.add_argument("--party", type=int, default=None, help="(internal) this party's id")
    parser.add_argument("--port", type=int, default=None, help="(internal) base port")
    parser.add_argument("--stats", default=None, help="(internal) file for this party's stats")
    args, _ = parser.parse_known_args(argv)
    return args


def column(seed: int, party: int, size: int, bits: int) -> np.ndarray:
    generator = np.random.default_rng([seed, party])
    return generator.integers(-(2**bits) + 1, 2**bits, size=size, dtype=np.int64)


def plaintext_sum(seed: int, parties: int, size: int, bits: int) -> np.ndarray:
    return np.sum([column(seed, p, size, bits) for p in range(parties)], axis=0, dtype=np.int64)


def tcp_bytes() -> dict[str, int]:
    """Bytes acknowledged (sent) and received on this process's TCP sockets, per TCP_INFO."""
    sent = received = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        try:
            if s.type != socket.SOCK_STREAM or s.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
            if len(info) >= TCPI_BYTES_RECEIVED + 8:
                sent += struct.unpack_from("<Q", info, TCPI_BYTES_ACKED)[0]
                received += struct.unpack_from("<Q", info, TCPI_BYTES_RECEIVED)[0]
        except OSError:
            pass
        finally:
            s.close()
    return {"sent": sent, "received": received}


def report(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def fail(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(1)

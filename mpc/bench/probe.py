"""Measure an emulated link: round-trip time of 1-byte messages and one-way TCP throughput.

    python -m mpc.bench.probe serve --host H --port P       (prints {"event": "listening"})
    python -m mpc.bench.probe measure --host H --port P [--count 20] [--megabytes 20]

`measure` prints one JSON object: the median round trip in ms over `count` pings (TCP_NODELAY),
and the throughput in Mbit/s of sending `megabytes` until the server acknowledges the last byte.
The server serves one connection and exits. Both sides give up after `--timeout` seconds.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time

PING = b"p"
DONE = b"k"


def serve(host: str, port: int, timeout: float) -> None:
    with socket.create_server((host, port)) as server:
        server.settimeout(timeout)
        print(json.dumps({"event": "listening", "port": server.getsockname()[1]}), flush=True)
        connection, _ = server.accept()
        with connection:
            connection.settimeout(timeout)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            expected = 0
            while True:
                data = connection.recv(1 << 20)
                if not data:
                    return
                if expected == 0 and data == PING:
                    connection.sendall(PING)
                elif expected == 0:  # start of a bulk transfer: 8-byte length, then the bytes
                    expected = int.from_bytes(data[:8], "big")
                    expected -= len(data) - 8
                else:
                    expected -= len(data)
                if expected < 0:
                    raise ValueError("more bytes than announced")
                if expected == 0 and data != PING:
                    connection.sendall(DONE)


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the probe server closed the connection")
        data += chunk
    return data


def measure(host: str, port: int, count: int, megabytes: float, timeout: float) -> dict[str, float]:
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rtts = []
        for _ in range(count):
            started = time.perf_counter()
            connection.sendall(PING)
            _receive_exactly(connection, 1)
            rtts.append(time.perf_counter() - started)
        size = int(megabytes * 1e6)
        payload = size.to_bytes(8, "big") + bytes(size)
        started = time.perf_counter()
        connection.sendall(payload)
        _receive_exactly(connection, 1)
        elapsed = time.perf_counter() - started
    return {
        "rtt_ms": round(statistics.median(rtts) * 1000, 3),
        "rtt_min_ms": round(min(rtts) * 1000, 3),
        "mbit": round(size * 8 / elapsed / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mpc.bench.probe")
    parser.add_argument("mode", choices=["serve", "measure"])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.host, args.port, args.timeout)
    else:
        print(json.dumps(measure(args.host, args.port, args.count, args.megabytes, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

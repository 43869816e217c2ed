"""A user-space netem: delays and rate-limits IP packets passing through a TUN device.

    python -m mpc.bench.relay --tun NAME --delay-ms D --rate-mbit R

Used by the emulated WAN (`mpc.bench.wan`) when the kernel has no `sch_netem`. The router
namespace sends every packet a party emits through the TUN device; this process reads it, and
writes it back (the kernel then forwards it to its destination) when it is due:
    departure = max(arrival, link of its sender free) + size / rate;   due = departure + delay
so each party has its own egress link of `rate` with a one-way delay `delay` (netem's `delay D
rate R` on each party's interface). The sender is the packet's IPv4 source address. It prints
`{"event": "ready"}` once the device exists and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import heapq
import json
import os
import select
import signal
import struct
import sys
import time
from types import FrameType

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65536


def open_tun(name: str) -> int:
    """Create (or attach to) TUN device `name`; return its non-blocking file descriptor."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Link:
    """Per-sender egress links: when each packet is due to leave the relay."""

    def __init__(self, delay_s: float, rate_bps: float) -> None:
        self.delay_s = delay_s
        self.rate_bps = rate_bps
        self.free_at: dict[bytes, float] = {}

    def due(self, packet: bytes, now: float) -> float:
        sender = packet[12:16]
        start = max(now, self.free_at.get(sender, 0.0))
        departure = start + len(packet) * 8 / self.rate_bps
        self.free_at[sender] = departure
        return departure + self.delay_s


def relay(fd: int, link: Link, stop: list[bool]) -> None:
    queue: list[tuple[float, int, bytes]] = []  # (due, sequence, packet): FIFO among equals
    sequence = 0
    while not stop[0]:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            # a packet the kernel refuses (queue full) is dropped, as on a real link
            with contextlib.suppress(OSError):
                os.write(fd, heapq.heappop(queue)[2])
        timeout = max(0.0, queue[0][0] - now) if queue else 0.5
        try:
            readable, _, _ = select.select([fd], [], [], timeout)
        except InterruptedError:
            continue
        if readable:
            arrival = time.monotonic()
            while True:
                try:
                    packet = os.read(fd, MAX_PACKET)
                except BlockingIOError:
                    break
                heapq.heappush(queue, (link.due(packet, arrival), sequence, packet))
                sequence += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mpc.bench.relay")
    parser.add_argument("--tun", required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--rate-mbit", type=float, required=True)
    args = parser.parse_args(argv)
    fd = open_tun(args.tun)
    stop = [False]

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(json.dumps({"event": "ready", "tun": args.tun}), flush=True)
    try:
        relay(fd, Link(args.delay_ms / 1000.0, args.rate_mbit * 1e6), stop)
    finally:
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())

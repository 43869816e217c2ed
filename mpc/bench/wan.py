"""The emulated WAN: each party in its own network namespace, links with delay and rate.

```
 root namespace (driver, dealer)  router namespace                  party namespaces
 mpcbXXXXXX 198.18.0.2  ── veth ── drv 198.18.0.1
                                   p0  198.18.1.1 ── veth ── eth0 198.18.1.2  (party 0)
                                   p1  198.18.2.1 ── veth ── eth0 198.18.2.2  (party 1) …
```
Every packet a party sends is delayed by RTT/2 and paced at the link rate on its way out, so two
parties see the target RTT between them (the driver, whose own packets are not delayed, sees RTT/2;
so does a dealer, which listens on 198.18.0.2). Delay and rate come from `tc netem` on each party's
interface when the kernel has it, and otherwise from `mpc.bench.relay` (a user-space netem on a TUN
device in the router namespace, fed by policy routing). Addresses are in 198.18.0.0/15, the range
reserved for benchmarking (RFC 2544); the namespaces have no route anywhere else.

`wan_network(...)` creates everything under names unique to this process, checks the emulated
round trip and throughput with `mpc.bench.probe`, yields a `Network` for the runner, and always
tears everything down (also on Ctrl-C); `reap_stale()` removes what a killed harness left behind.
Needs root and `ip`/`tc` (Debian: iproute2); `unavailable()` says why not otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mpc.bench.runner import Network

PREFIX = "mpcb-"
DRIVER_ADDRESS = "198.18.0.2"  # the root namespace's end of the uplink: driver and dealer
SUBNET = "198.18.0.0/15"
MTU = 65000
COMMAND_TIMEOUT = 20.0
PROBE_PORT = 9
PROBE_MEGABYTES = 100  # enough to leave TCP slow start behind at 1 Gbit/s and 20 ms


class WanError(RuntimeError):
    """The emulated network could not be created or does not behave as asked."""


@dataclass(frozen=True)
class WanSpec:
    rtt_ms: float = 20.0
    rate_mbit: float = 1000.0


def unavailable() -> str | None:
    """Why the emulated WAN cannot run here, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the emulated WAN needs root (network namespaces, veth, tc); run as root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian/Ubuntu: apt-get install iproute2)"
    if not os.path.exists("/var/run/netns") and not os.access("/var/run", os.W_OK):
        return "cannot create network namespaces (/var/run is not writable)"
    return None


def _run(command: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise WanError(f"`{' '.join(command)}` took longer than {COMMAND_TIMEOUT:g} s") from None
    if check and done.returncode != 0:
        raise WanError(f"`{' '.join(command)}` failed: {done.stderr.strip()}")
    return done


def _in(namespace: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["ip", "netns", "exec", namespace, *command], check=check)


def _sysctl(namespace: str, settings: dict[str, str]) -> None:
    script = "; ".join(
        f"echo {value} > /proc/sys/{key.replace('.', '/')}" for key, value in settings.items()
    )
    _in(namespace, "sh", "-c", script)


def _namespaces() -> list[str]:
    out = _run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_namespace(namespace: str) -> None:
    """Kill what runs in `namespace` (processes this harness started there), then delete it."""
    pids = _run(["ip", "netns", "pids", namespace], check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 9)
    _run(["ip", "netns", "delete", namespace], check=False)


def reap_stale() -> list[str]:
    """Delete the namespaces of harness processes that no longer exist; return their names."""
    stale = []
    for namespace in _namespaces():
        if not namespace.startswith(PREFIX):
            continue
        owner = namespace[len(PREFIX) :].split("-")[0]
        if owner.isdigit() and not _alive(int(owner)):
            _delete_namespace(namespace)
            stale.append(namespace)
    return stale


def _wait_line(process: subprocess.Popen[str], what: str, timeout: float) -> dict[str, Any]:
    """The first JSON line `process` prints, within `timeout` seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            value: dict[str, Any] = json.loads(line)
            return value
    raise WanError(f"{what} did not start within {timeout:g} s")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


class _Builder:
    """Creates the namespaces and links of one emulated WAN and remembers what to tear down."""

    def __init__(self, parties: int, spec: WanSpec) -> None:
        self.parties = parties
        self.spec = spec
        tag = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.router = f"{PREFIX}{tag}-r"
        self.party_ns = [f"{PREFIX}{tag}-p{i}" for i in range(parties)]
        self.uplink = f"mpcb{secrets.token_hex(3)}"
        self.created: list[str] = []
        self.relay: subprocess.Popen[str] | None = None
        self.method = ""

    def host(self, party: int) -> str:
        return f"198.18.{party + 1}.2"

    def build(self) -> None:
        existing = _run(["ip", "-4", "route", "show", "root", SUBNET]).stdout.strip()
        if existing:
            raise WanError(f"{SUBNET} is already routed here (another emulated WAN?): {existing}")
        forwarding = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0"}
        self._namespace(self.router)
        _sysctl(self.router, {**forwarding, "net.ipv4.conf.default.rp_filter": "0"})
        _run(
            [
                "ip",
                "link",
                "add",
                self.uplink,
                "type",
                "veth",
                "peer",
                "name",
                "drv",
                "netns",
                self.router,
            ]
        )
        _run(["ip", "addr", "add", f"{DRIVER_ADDRESS}/24", "dev", self.uplink])
        _run(["ip", "link", "set", self.uplink, "mtu", str(MTU), "up"])
        _run(["ip", "-n", self.router, "addr", "add", "198.18.0.1/24", "dev", "drv"])
        _run(["ip", "-n", self.router, "link", "set", "drv", "mtu", str(MTU), "up"])
        _run(["ip", "route", "add", "198.18.0.0/16", "via", "198.18.0.1", "dev", self.uplink])
        for party, namespace in enumerate(self.party_ns):
            self._namespace(namespace)
            link = f"p{party}"
            _run(
                [
                    "ip",
                    "-n",
                    self.router,
                    "link",
                    "add",
                    link,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    namespace,
                ]
            )
            _run(["ip", "-n", self.router, "addr", "add", f"198.18.{party + 1}.1/24", "dev", link])
            _run(["ip", "-n", self.router, "link", "set", link, "mtu", str(MTU), "up"])
            _run(["ip", "-n", namespace, "addr", "add", f"{self.host(party)}/24", "dev", "eth0"])
            _run(["ip", "-n", namespace, "link", "set", "eth0", "mtu", str(MTU), "up"])
            _run(["ip", "-n", namespace, "route", "add", "default", "via", f"198.18.{party + 1}.1"])
        if self._netem():
            self.method = "tc netem on each party's interface"
        else:
            self._relay()
            self.method = "user-space relay on a TUN device (this kernel has no sch_netem)"

    def _namespace(self, name: str) -> None:
        _run(["ip", "netns", "add", name])
        self.created.append(name)
        _run(["ip", "-n", name, "link", "set", "lo", "up"])

    def _netem(self) -> bool:
        delay = f"{self.spec.rtt_ms / 2:g}ms"
        rate = f"{self.spec.rate_mbit:g}mbit"
        for namespace in self.party_ns:
            done = _in(
                namespace,
                "tc",
                "qdisc",
                "add",
                "dev",
                "eth0",
                "root",
                "netem",
                "delay",
                delay,
                "rate",
                rate,
                "limit",
                "100000",
                check=False,
            )
            if done.returncode != 0:
                if "unknown" in done.stderr.lower() or "no such file" in done.stderr.lower():
                    return False
                raise WanError(f"tc netem failed in {namespace}: {done.stderr.strip()}")
        return True

    def _relay(self) -> None:
        if not os.path.exists("/dev/net/tun"):
            raise WanError("the kernel has neither sch_netem nor /dev/net/tun to delay packets")
        command = [
            "ip",
            "netns",
            "exec",
            self.router,
            sys.executable,
            "-m",
            "mpc.bench.relay",
            "--tun",
            "tun0",
            "--delay-ms",
            f"{self.spec.rtt_ms / 2:g}",
            "--rate-mbit",
            f"{self.spec.rate_mbit:g}",
        ]
        self.relay = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
        )
        _wait_line(self.relay, "the delay relay", 30.0)
        _run(["ip", "-n", self.router, "link", "set", "tun0", "mtu", str(MTU), "up"])
        _sysctl(self.router, {"net.ipv4.conf.tun0.rp_filter": "0"})
        _run(["ip", "-n", self.router, "route", "add", "default", "dev", "tun0", "table", "100"])
        for party in range(self.parties):
            _sysctl(self.router, {f"net.ipv4.conf.p{party}.rp_filter": "0"})
            _run(["ip", "-n", self.router, "rule", "add", "iif", f"p{party}", "lookup", "100"])

    def probe(self) -> dict[str, Any]:
        """Round trip and throughput from party 0 to party 1 (or to the driver when alone)."""
        if self.parties < 2:
            return {}
        server = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.party_ns[1],
                sys.executable,
                "-m",
                "mpc.bench.probe",
                "serve",
                "--host",
                self.host(1),
                "--port",
                str(PROBE_PORT),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_line(server, "the probe server", 30.0)
            done = _in(
                self.party_ns[0],
                sys.executable,
                "-m",
                "mpc.bench.probe",
                "measure",
                "--host",
                self.host(1),
                "--port",
                str(PROBE_PORT),
                "--megabytes",
                str(PROBE_MEGABYTES),
            )
            measured: dict[str, Any] = json.loads(done.stdout)
        finally:
            _stop(server)
        return measured

    def teardown(self) -> list[str]:
        problems = []
        if self.relay is not None:
            _stop(self.relay)
        for namespace in reversed(self.created):
            _delete_namespace(namespace)
        self.created.clear()
        left = [n for n in _namespaces() if n in (self.router, *self.party_ns)]
        if left:
            problems.append(f"namespaces left behind: {', '.join(left)}")
        if _run(["ip", "link", "show", self.uplink], check=False).returncode == 0:
            _run(["ip", "link", "delete", self.uplink], check=False)
        return problems


@contextlib.contextmanager
def wan_network(parties: int, spec: WanSpec | None = None) -> Iterator[Network]:
    """An emulated WAN with `parties` party slots; torn down on exit, whatever happens."""
    spec = spec or WanSpec()
    reason = unavailable()
    if reason:
        raise WanError(reason)
    reap_stale()
    builder = _Builder(parties, spec)
    try:
        builder.build()
        measured = builder.probe()
        rtt = measured.get("rtt_ms")
        if spec.rtt_ms > 0 and rtt is not None and rtt < 0.5 * spec.rtt_ms:
            raise WanError(f"the emulated RTT is {rtt} ms, far below the {spec.rtt_ms} ms asked")
        info = {
            "kind": "emulated WAN (network namespaces)",
            "rtt_ms": spec.rtt_ms,
            "rate_mbit": spec.rate_mbit,
            "method": builder.method,
            "measured_rtt_ms": rtt,
            "measured_mbit": measured.get("mbit"),
            "probe_megabytes": PROBE_MEGABYTES,
        }
        yield Network(
            "wan",
            info,
            hosts=tuple(builder.host(p) for p in range(parties)),
            prefixes=tuple(("ip", "netns", "exec", ns) for ns in builder.party_ns),
            dealer_host=DRIVER_ADDRESS,
        )
    finally:
        problems = builder.teardown()
        if problems:
            print(f"warning: WAN teardown: {'; '.join(problems)}", file=sys.stderr)

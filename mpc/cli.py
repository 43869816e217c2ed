"""The `mpc` command: keys, party, dealer, submit, local, plan, bench.

```
mpc keys   --config C [--party I ...] [--no-driver] [--force]
mpc party  --config C --id I
mpc dealer --config C
mpc submit --config C CIRCUIT [--param K=V ...] [--bind P:NAME=DATASET ...] [--reveal-to R,...]
mpc local  -n N [--protocol shamir|additive] [--threshold T] [--preprocessing P] CIRCUIT
           --input P:NAME=FILE ...
(submit and local also take --param, --reveal-to and --json)
mpc plan   CIRCUIT -n N [--protocol P] [--threshold T] [--preprocessing P] [--rows R] [--json]
mpc bench  [--suite quick|full] [--net lan,wan] [--compare mpyc,crypten,spu] [--out DIR] ...
```
`mpc bench` belongs to `mpc.bench` (imported only when it runs; `mpc bench --help`).
Exit status: 0 on success, 1 when the job or command fails (the message names the cause),
2 for a malformed command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from mpc import config, keys, memory
from mpc.errors import JobFailedError, MpcError, describe_failure, sorted_failures
from mpc.progress import ProgressLine
from mpc.results import to_json
from mpc.suite import PROTOCOLS, PROVIDERS

Receiver = int | str


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def _party_binding(text: str) -> tuple[int, str, str]:
    party, sep, rest = text.partition(":")
    name, sep2, value = rest.partition("=")
    if not sep or not sep2 or not party.isdigit() or not name or not value:
        raise argparse.ArgumentTypeError(f"expected PARTY:NAME=VALUE, got {text!r}")
    return int(party), name, value


def _receivers(text: str) -> tuple[Receiver, ...]:
    receivers: list[Receiver] = []
    for item in text.split(","):
        item = item.strip()
        if item == "driver":
            receivers.append(item)
        elif item.isdigit():
            receivers.append(int(item))
        else:
            raise argparse.ArgumentTypeError(f"receivers are party ids or 'driver', got {item!r}")
    return tuple(receivers)


def preprocessing_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preprocessing",
        choices=PROVIDERS,
        help="who makes products' material: 'ot' (n = 2, default), 'honest-majority' (n ≥ 3; "
        "shamir's own), or 'dealer' (a trusted dealer process; never the default)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mpc", description="Multi-party computation runtime.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("keys", help="make each party's key and self-signed certificate")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--party", type=int, action="append", help="only this party (repeatable)")
    p.add_argument("--no-driver", action="store_true", help="do not make the driver's key")
    p.add_argument("--force", action="store_true", help="overwrite existing keys")

    p = commands.add_parser("party", help="run a party node until stopped")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--id", required=True, type=int)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    p = commands.add_parser("dealer", help="run the deployment's trusted dealer until stopped")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    def job_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("circuit", type=Path, help="circuit file (e.g. circuits/secure_sum.py)")
        p.add_argument("--param", type=_key_value, action="append", default=[], metavar="K=V")
        p.add_argument(
            "--reveal-to",
            type=_receivers,
            metavar="R,...",
            help="receivers of outputs the circuit does not route itself "
            "(party ids and/or 'driver'; default: every party)",
        )
        p.add_argument("--json", action="store_true", help="print one JSON object")

    p = commands.add_parser("submit", help="run a job on running party nodes")
    p.add_argument("--config", required=True, type=Path)
    job_options(p)
    p.add_argument(
        "--bind",
        type=_party_binding,
        action="append",
        default=[],
        metavar="P:NAME=DATASET",
        help="read the circuit's dataset NAME from DATASET",
    )

    p = commands.add_parser("local", help="run a job between N local party processes")
    p.add_argument("-n", "--parties", dest="n", required=True, type=int)
    p.add_argument("--protocol", choices=PROTOCOLS)
    p.add_argument("--threshold", type=int)
    preprocessing_option(p)
    job_options(p)
    p.add_argument(
        "--input",
        type=_party_binding,
        action="append",
        default=[],
        metavar="P:NAME=FILE",
        help="party P's dataset NAME is the CSV FILE",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds any party may wait for a peer (default 30)",
    )

    p = commands.add_parser("plan", help="compile a circuit and print its plan and cost")
    p.add_argument("circuit", type=Path)
    p.add_argument("-n", "--parties", dest="n", required=True, type=int)
    p.add_argument("--protocol", choices=PROTOCOLS)
    p.add_argument("--threshold", type=int)
    preprocessing_option(p)
    p.add_argument("--rows", type=int, default=1000, help="rows of every input dataset")
    p.add_argument("--param", type=_key_value, action="append", default=[], metavar="K=V")
    p.add_argument("--reveal-to", type=_receivers, metavar="R,...")
    p.add_argument("--json", action="store_true")

    # listed for `mpc --help`; main() hands everything after `bench` to mpc.bench.cli
    commands.add_parser("bench", help="run the benchmark suite (mpc bench --help)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["bench"]:
        from mpc.bench.cli import main as bench_main  # the harness and its extras load lazily

        try:
            return bench_main(arguments[1:])
        except KeyboardInterrupt:
            return 130
    args = _parser().parse_args(arguments)
    try:
        return int(_COMMANDS[args.command](args))
    except JobFailedError as error:
        print("error: job failed", file=sys.stderr)
        for party, failure in sorted_failures(error.failures):
            print(f"  {describe_failure(party, failure)}", file=sys.stderr)
        return 1
    except MpcError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _default_protocol(n: int, protocol: str | None) -> str:
    return protocol or ("shamir" if n >= 3 else "additive")


def _cmd_keys(args: argparse.Namespace) -> int:
    deployment = config.load(args.config)
    written = keys.generate_keys(
        deployment, parties=args.party, driver=not args.no_driver, force=args.force
    )
    for path in written:
        print(path)
    return 0


def _cmd_party(args: argparse.Namespace) -> int:
    from mpc.node import PartyNode

    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s party {args.id} %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    deployment = config.load(args.config)
    node = PartyNode(deployment, args.id)
    memory.reserve(deployment.limits.reserved_memory_bytes)
    _serve_until_signal(node.serve, {"event": "listening", "party": args.id})
    return 0


def _serve_until_signal(serve: Any, event: dict[str, Any]) -> None:
    """Run a node's `serve` (a trio nursery.start target giving its listeners) until SIGTERM or
    SIGINT; print `event` with the listening port as one JSON line once it listens."""

    async def main() -> None:
        async with trio.open_nursery() as nursery:

            async def stop_on_signal() -> None:
                with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for _ in signals:
                        nursery.cancel_scope.cancel()
                        return

            nursery.start_soon(stop_on_signal)
            listeners = await nursery.start(serve)
            port = listeners[0].socket.getsockname()[1]
            print(json.dumps({**event, "port": port}), flush=True)

    trio.run(main)


def _cmd_dealer(args: argparse.Namespace) -> int:
    from mpc.dealer import DealerNode

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s dealer %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    deployment = config.load(args.config)
    node = DealerNode(deployment)
    memory.reserve(deployment.limits.reserved_memory_bytes)
    _serve_until_signal(node.serve, {"event": "listening", "dealer": True})
    return 0


def _params(args: argparse.Namespace) -> dict[str, str]:
    return dict(args.param)


def _print_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(outcome.to_json()))
        return
    stats = outcome.stats
    print(
        f"{stats['circuit']} ({stats['protocol']}, {stats['n_parties']} parties, "
        f"t={stats['threshold']}): {stats['rounds']} rounds, {stats['seconds']:.3f} s"
    )
    for name, value in outcome.outputs.items():
        shown = to_json(value)
        if isinstance(shown, list) and len(shown) > 10:
            shown = f"{shown[:10]} … ({len(shown)} values)"
        print(f"  {name} = {shown}")
    sent = ", ".join(f"{p}: {b / 1e3:.1f} kB" for p, b in stats["bytes_sent"].items())
    print(f"  bytes sent per party: {sent}")


def _cmd_submit(args: argparse.Namespace) -> int:
    from mpc.client import Client

    deployment = config.load(args.config)
    bindings: dict[int, dict[str, str]] = {}
    for party, name, dataset in args.bind:
        bindings.setdefault(party, {})[name] = dataset
    client = Client(deployment)
    client.progress = ProgressLine(deployment.n_parties)
    outcome = client.run_sync(
        args.circuit, params=_params(args), bindings=bindings, receivers=args.reveal_to
    )
    _print_outcome(outcome, args.json)
    return 0


def _cmd_local(args: argparse.Namespace) -> int:
    from mpc.local import run_local

    protocol = _default_protocol(args.n, args.protocol)
    inputs: dict[int, dict[str, Path]] = {}
    for party, name, file in args.input:
        if not 0 <= party < args.n:
            print(f"error: --input names party {party}, but there are {args.n}", file=sys.stderr)
            return 2
        inputs.setdefault(party, {})[name] = Path(file)
    timeouts = config.Timeouts(
        connect=args.timeout, round=args.timeout, job=3600.0, idle=max(args.timeout, 60.0)
    )

    async def go() -> Any:
        return await run_local(
            args.circuit,
            n_parties=args.n,
            protocol=protocol,
            threshold=args.threshold,
            inputs=inputs,
            params=_params(args),
            receivers=args.reveal_to,
            timeouts=timeouts,
            preprocessing=args.preprocessing,
            progress=ProgressLine(args.n),
        )

    _print_outcome(trio.run(go), args.json)
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from mpc.dsl import CompileSpec, compile, load_circuit
    from mpc.gc import bristol
    from mpc.suite import Suite

    protocol = _default_protocol(args.n, args.protocol)
    threshold = config.protocol_threshold(protocol, args.n, args.threshold)
    plan = compile(
        load_circuit(args.circuit),
        CompileSpec(
            Suite(protocol, args.n, threshold),
            default_rows=args.rows,
            params=_params(args),
            receivers=args.reveal_to,
            preprocessing=args.preprocessing,
            bristol=bristol.loader(),
        ),
    )
    summary = plan.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"circuit      {summary['circuit']}  ({protocol}, n={args.n}, t={threshold})")
    print(f"fingerprint  {summary['fingerprint']}")
    print(f"rounds       {summary['rounds']}")
    print(f"domain       {summary['domain']}")
    provider = summary["preprocessing"] or "none needed"
    needs = ", ".join(f"{count} {name}" for name, count in summary["needs"].items())
    print(f"preprocessing {provider}" + (f": {needs}" if needs else ""))
    print(f"rows         {args.rows} per input dataset (--rows)")
    for party, sent in enumerate(summary["bytes_sent"]):
        to_driver = summary["bytes_to_driver"][party]
        extra = f", {to_driver} to the driver" if to_driver else ""
        print(f"party {party}      sends {sent} bytes to peers{extra}")
    for output in summary["outputs"]:
        to = [str(r) for r in output["to"]] + (["driver"] if output["driver"] else [])
        print(f"output       {output['name']} shape {tuple(output['shape'])} to {', '.join(to)}")
    return 0


_COMMANDS = {
    "keys": _cmd_keys,
    "party": _cmd_party,
    "dealer": _cmd_dealer,
    "submit": _cmd_submit,
    "local": _cmd_local,
    "plan": _cmd_plan,
}

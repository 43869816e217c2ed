"""Party nodes and the driver over mutual TLS on loopback, in one process (trio).

Happy paths check outputs against plaintext and bytes against the plan; failure paths check that
every party stops with an error naming the culprit, within the configured deadline.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
import trio

from mpc.client import Client, JobOutcome
from mpc.config import Deployment
from mpc.engine import Engine, PartyResult
from mpc.errors import (
    AbortedError,
    CompileError,
    InputError,
    JobFailedError,
    PeerBrokenError,
    PeerTimeoutError,
    PeerUnreachableError,
    PolicyError,
    RemoteProtocolError,
    type_name,
)
from mpc.net.mesh import Mesh
from mpc.node import PartyNode
from mpc.wire import Frame
from tests.conftest import SECURE_SUM, MakeDeployment, plaintext_sum, write_values


@asynccontextmanager
async def running_nodes(
    deployment: Deployment, nodes: Sequence[PartyNode] | None = None
) -> AsyncIterator[list[PartyNode]]:
    nodes = list(nodes or [PartyNode(deployment, p.id) for p in deployment.parties])
    async with trio.open_nursery() as nursery:
        for node in nodes:
            await nursery.start(node.serve)
        yield nodes
        nursery.cancel_scope.cancel()


async def run_job(deployment: Deployment, **options: object) -> JobOutcome:
    with trio.fail_after(60):
        return await Client(deployment).run(SECURE_SUM, **options)  # type: ignore[arg-type]


def failure_type(error: object) -> str:
    return type_name(error)


pytestmark = pytest.mark.usefixtures("collect_garbage")

VALUES3 = {0: [1, -2, 3, 2**39], 1: [10, 20, -30, 5], 2: [100, 0, 7, -(2**39)]}


@pytest.mark.parametrize(
    ("n", "protocol"), [(2, "additive"), (3, "additive"), (3, "shamir"), (5, "shamir")]
)
async def test_nodes_secure_sum_matches_plaintext(
    make_deployment: MakeDeployment, n: int, protocol: str
) -> None:
    rng = np.random.default_rng(n)
    values = {p: rng.integers(-(2**39), 2**39, 50).tolist() for p in range(n)}
    deployment = make_deployment(n, protocol, values=values)
    async with running_nodes(deployment) as nodes:
        outcome = await run_job(deployment)
        second = await run_job(deployment)  # nodes serve job after job
    expected = plaintext_sum(values)
    assert outcome.outputs["sum"].tolist() == expected.tolist()
    assert int(outcome.outputs["total"]) == int(expected.sum())
    assert second.outputs["sum"].tolist() == expected.tolist()
    assert all(node.jobs_done == 2 for node in nodes)
    stats = outcome.stats
    assert stats["rounds"] == outcome.plan.rounds
    assert [stats["payload_bytes_sent"][str(p)] for p in range(n)] == list(
        outcome.plan.cost().bytes_sent
    )
    for p in range(n):  # wire bytes = payload + framing, never less
        assert stats["bytes_sent"][str(p)] >= stats["payload_bytes_sent"][str(p)]


async def test_nodes_reveal_to_driver_only_parties_learn_nothing(
    make_deployment: MakeDeployment,
) -> None:
    deployment = make_deployment(3, "shamir", values=VALUES3)
    async with running_nodes(deployment):
        outcome = await run_job(deployment, receivers=("driver",))
    assert outcome.outputs["sum"].tolist() == plaintext_sum(VALUES3).tolist()
    assert outcome.stats["predicted"]["bytes_to_driver"] == [40, 40, 40]
    assert outcome.stats["payload_bytes_sent"] == {"0": 32, "1": 32, "2": 32}  # input sharing only


async def test_nodes_refuse_a_circuit_their_config_does_not_allow(
    make_deployment: MakeDeployment, tmp_path: Path
) -> None:
    other = tmp_path / "other_sum.py"
    other.write_text(SECURE_SUM.read_text())
    deployment = make_deployment(
        3,
        "shamir",
        values=VALUES3,
        circuits={0: [SECURE_SUM, other], 1: [SECURE_SUM, other], 2: [SECURE_SUM]},
    )
    async with running_nodes(deployment):
        with pytest.raises(JobFailedError) as caught, trio.fail_after(30):
            await Client(deployment).run(other)
    party, error = caught.value.root_cause()
    assert party == 2
    assert failure_type(error) == PolicyError.__name__
    assert "'other_sum' is not allowed" in str(error)


async def test_nodes_refuse_a_dataset_not_in_their_config(make_deployment: MakeDeployment) -> None:
    values = {0: VALUES3[0], 1: VALUES3[1]}  # party 2 has no `values` dataset
    deployment = make_deployment(3, "shamir", values=values)
    async with running_nodes(deployment):
        with pytest.raises(JobFailedError) as caught:
            await run_job(deployment)
    party, error = caught.value.root_cause()
    assert party == 2
    assert failure_type(error) == PolicyError.__name__
    assert "no dataset 'values'" in str(error)


async def test_nodes_bad_csv_names_file_column_and_row(
    make_deployment: MakeDeployment, tmp_path: Path
) -> None:
    deployment = make_deployment(3, "shamir", values=VALUES3)
    (tmp_path / "p1.csv").write_text("id,value\n0,1\n1,two\n2,3\n3,4\n")
    async with running_nodes(deployment):
        with pytest.raises(JobFailedError) as caught:
            await run_job(deployment)
    party, error = caught.value.root_cause()
    assert party == 1
    assert failure_type(error) == InputError.__name__
    assert "p1.csv, column 'value', row 3: 'two' is not an integer" in str(error)


async def test_nodes_wrong_row_count_names_the_files(
    make_deployment: MakeDeployment, tmp_path: Path
) -> None:
    values = dict(VALUES3)
    values[2] = VALUES3[2][:3]
    deployment = make_deployment(3, "additive", values=values)
    async with running_nodes(deployment):
        with pytest.raises(JobFailedError) as caught:
            await run_job(deployment)
    party, error = caught.value.root_cause()
    assert party == "driver"
    assert isinstance(error, InputError)
    assert error.path.endswith("p2.csv")
    assert (error.column, error.row) == ("value", 5)
    assert "has 3 rows but" in str(error)
    assert "p0.csv (party 0) has 4" in str(error)


async def test_nodes_with_different_circuit_files_refuse_to_run(
    make_deployment: MakeDeployment, tmp_path: Path
) -> None:
    changed = tmp_path / "variant" / "secure_sum.py"
    changed.parent.mkdir()
    changed.write_text(
        SECURE_SUM.read_text().replace(
            'dsl.reveal(elementwise, "sum")', 'dsl.reveal(-elementwise, "sum")'
        )
    )
    deployment = make_deployment(3, "shamir", values=VALUES3, circuits={1: [changed]})
    async with running_nodes(deployment):
        with pytest.raises(JobFailedError) as caught:
            await run_job(deployment)
    assert failure_type(caught.value.failures[1]) == CompileError.__name__
    assert "versions differ" in str(caught.value.failures[1])


async def test_driver_names_a_party_that_is_not_running(make_deployment: MakeDeployment) -> None:
    deployment = make_deployment(3, "shamir", values=VALUES3, timeouts={"connect": 0.5})
    nodes = [PartyNode(deployment, 0), PartyNode(deployment, 1)]
    async with running_nodes(deployment, nodes):
        with pytest.raises(JobFailedError) as caught:
            await run_job(deployment)
    assert isinstance(caught.value.failures[2], PeerUnreachableError)
    assert "party 2" in str(caught.value)


# --- misbehaving parties -------------------------------------------------------------------------


class GarbageNode(PartyNode):
    """Sends bytes that are not a frame once the job starts."""

    async def _run_engine(self, engine: Engine, mesh: Mesh, *_: object) -> PartyResult:
        for channel in mesh.channels.values():
            await channel.stream.send_all((7).to_bytes(4, "big") + b"garbage")
        await trio.sleep(math.inf)
        raise AssertionError


class OversizedNode(PartyNode):
    """Announces a frame far over the limit."""

    async def _run_engine(self, engine: Engine, mesh: Mesh, *_: object) -> PartyResult:
        for channel in mesh.channels.values():
            await channel.stream.send_all((2**31).to_bytes(4, "big"))
        await trio.sleep(math.inf)
        raise AssertionError


class HungNode(PartyNode):
    """Stops answering once the job starts."""

    async def _run_engine(self, engine: Engine, mesh: Mesh, *_: object) -> PartyResult:
        await trio.sleep(math.inf)
        raise AssertionError


class DyingNode(PartyNode):
    """Drops every connection abruptly in the middle of the job, like a killed process."""

    async def _run_engine(self, engine: Engine, mesh: Mesh, *_: object) -> PartyResult:
        for channel in mesh.channels.values():
            await trio.aclose_forcefully(channel.stream)
        await trio.sleep(math.inf)
        raise AssertionError


@pytest.mark.parametrize(
    ("node_class", "error_type", "words"),
    [
        (GarbageNode, RemoteProtocolError, "malformed frame"),
        (OversizedNode, RemoteProtocolError, "exceeds the limit"),
        (HungNode, PeerTimeoutError, "within 1 s"),
        (DyingNode, PeerBrokenError, "party 2"),
    ],
)
async def test_nodes_stop_with_a_named_error_when_a_peer_misbehaves(
    make_deployment: MakeDeployment, node_class: type[PartyNode], error_type: type, words: str
) -> None:
    deployment = make_deployment(3, "shamir", values=VALUES3, timeouts={"round": 1.0})
    nodes = [PartyNode(deployment, 0), PartyNode(deployment, 1), node_class(deployment, 2)]
    async with running_nodes(deployment, nodes):
        started = trio.current_time()
        with pytest.raises(JobFailedError) as caught:
            await run_job(deployment)
        elapsed = trio.current_time() - started
    assert elapsed < 1.0 + 3.0  # the round deadline plus reporting slack
    failures = caught.value.failures
    assert set(failures) == {0, 1, 2}  # every party stopped and said why
    for party in (0, 1):
        assert failure_type(failures[party]) in (
            error_type.__name__,
            AbortedError.__name__,
            PeerTimeoutError.__name__,  # waiting for a party that is itself stuck on party 2
        ), failures[party]
    _, root = caught.value.root_cause()  # the blame chain leads to party 2
    assert failure_type(root) == error_type.__name__
    assert str(root).startswith("party 2") or "party 2:" in str(root)
    assert words in str(root)


async def test_driver_abort_reaches_every_party(make_deployment: MakeDeployment) -> None:
    """A driver that disappears mid-job stops every node; the nodes stay up for the next job."""
    deployment = make_deployment(3, "shamir", values=VALUES3, timeouts={"round": 30.0})
    nodes = [PartyNode(deployment, 0), PartyNode(deployment, 1), HungNode(deployment, 2)]
    async with running_nodes(deployment, nodes):
        with trio.move_on_after(1.0):
            await Client(deployment).run(SECURE_SUM)
        with trio.fail_after(
            5
        ):  # the sessions end at once (they do not wait for the round deadline)
            while any(node._sessions for node in nodes):
                await trio.sleep(0.05)
    assert all(node.jobs_done == 0 for node in nodes)


async def hello_reply(deployment: Deployment, session: bytes) -> Frame:
    """What party 0's node answers when party 1 dials it with a hello for `session`."""
    from mpc.net import tls
    from mpc.net.mesh import dial
    from mpc.wire import HELLO

    with trio.fail_after(10):
        channel = await dial(
            deployment.party(0),
            context=tls.client_context(deployment, 1),
            identities=tls.Identities.from_deployment(deployment),
            deadline=trio.current_time() + 5,
            limits=deployment.limits,
        )
        try:
            await channel.send(Frame(session, 0, 0, 1, HELLO, {"fingerprint": "f"}))
            return await channel.receive()
        finally:
            await channel.aclose()


async def test_node_refuses_an_unknown_session_hello(make_deployment: MakeDeployment) -> None:
    from mpc.wire import ERROR

    deployment = make_deployment(3, "shamir", values=VALUES3)
    async with running_nodes(deployment, [PartyNode(deployment, 0)]):
        reply = await hello_reply(deployment, b"x" * 16)
    assert reply.kind == ERROR
    assert "unknown or finished session" in reply.payload["message"]


async def test_node_names_who_aborted_a_session_to_a_peer_that_dials_late(
    make_deployment: MakeDeployment,
) -> None:
    """A late hello for a session this node aborted gets the abort's origin and reason back, so
    the late party reports an abort (a consequence), not a protocol error of this node."""
    from mpc.wire import ABORT

    values = {**VALUES3, 2: [2**50]}  # out of the circuit's 40 bits: party 2 fails to prepare
    deployment = make_deployment(3, "shamir", values=values)
    node = PartyNode(deployment, 0)
    async with running_nodes(deployment, [node, *(PartyNode(deployment, p) for p in (1, 2))]):
        with pytest.raises(JobFailedError):  # the driver aborts parties 0 and 1
            await run_job(deployment)
        with trio.fail_after(5):
            while not node._aborted:
                await trio.sleep(0.02)
        (session,) = node._aborted
        reply = await hello_reply(deployment, session)
    assert reply.kind == ABORT
    assert reply.payload["origin"] == "driver"
    mesh = Mesh(1, session, deployment.limits)
    with pytest.raises(AbortedError) as caught:
        mesh._check_hello(0, reply, "f")
    assert caught.value.origin_party == "driver"
    assert caught.value.reason == reply.payload["reason"]


def test_values_fixture_writes_csv(tmp_path: Path) -> None:
    path = write_values(tmp_path / "x.csv", [1, -2])
    assert path.read_text() == "id,value\n0,1\n1,-2\n"


# --- products over TLS: the providers ------------------------------------------------------------

INNER = SECURE_SUM.parent / "inner_product.py"


def decimals(tmp_path: Path, name: str, values: Sequence[float]) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text(f"id,{name}\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    return path


@asynccontextmanager
async def running_dealer(deployment: Deployment) -> AsyncIterator[object]:
    from mpc.dealer import DealerNode

    dealer = DealerNode(deployment)
    async with trio.open_nursery() as nursery:
        await nursery.start(dealer.serve)
        yield dealer
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("n", "protocol", "provider"),
    [
        (2, "additive", "dealer"),
        (3, "additive", "dealer"),
        (3, "additive", "honest-majority"),
        (3, "shamir", None),
    ],
)
async def test_nodes_inner_product_matches_plaintext(
    make_deployment: MakeDeployment, tmp_path: Path, n: int, protocol: str, provider: str | None
) -> None:
    x = [1.25, -2.5, 99.75, 0.01]
    y = [4.0, 0.5, -1.5, 100.0]
    files = {0: {"x": decimals(tmp_path, "x", x)}, 1: {"y": decimals(tmp_path, "y", y)}}
    deployment = make_deployment(
        n, protocol, datasets=files, circuits={p: [INNER] for p in range(n)}, preprocessing=provider
    )
    async with (
        running_nodes(deployment),
        running_dealer(deployment) if provider == "dealer" else _nothing(),
    ):
        with trio.fail_after(60):
            outcome = await Client(deployment).run(INNER)
    expected = sum(a * b for a, b in zip(x, y, strict=True))
    assert abs(float(outcome.outputs["dot"]) - expected) < 1e-5
    stats = outcome.stats
    assert stats["domain"] == "F127"
    assert stats["preprocessing"] == (
        provider or ("honest-majority" if protocol == "shamir" else None)
    )
    if provider == "honest-majority" or protocol == "shamir":
        assert stats["offline_rounds"] == 2  # contributions, then the XOR of the mask bits
        assert all(b > 0 for b in stats["offline_bytes_sent"].values())
    else:  # the dealer: nothing between the parties before the online phase
        assert stats["offline_rounds"] == 0
        assert all(b == 0 for b in stats["offline_bytes_sent"].values())


MATMUL = SECURE_SUM.parents[1] / "benchmarks" / "circuits" / "matmul.py"


def matrix_files(tmp_path: Path, a: np.ndarray, b: np.ndarray) -> dict[int, dict[str, Path]]:
    """`MATMUL`'s datasets: party 0's A by rows, party 1's B by columns."""
    for name, matrix in (("a", a), ("bt", b.T)):
        header = ",".join(f"c{j}" for j in range(matrix.shape[1]))
        rows = "".join(",".join(map(str, row)) + "\n" for row in matrix)
        (tmp_path / f"{name}.csv").write_text(f"{header}\n{rows}")
    return {0: {"a": tmp_path / "a.csv"}, 1: {"bt": tmp_path / "bt.csv"}}


def with_dealer(
    make_deployment: MakeDeployment,
    n: int,
    circuit: Path,
    files: dict[int, dict[str, Path]],
    **timeouts: float,
) -> Deployment:
    """An additive deployment of n parties with a dealer, allowed to run `circuit`."""
    return make_deployment(
        n,
        "additive",
        datasets=files,
        circuits={p: [circuit] for p in range(n)},
        preprocessing="dealer",
        timeouts=timeouts or None,
    )


@pytest.mark.parametrize("n", [2, 3])
async def test_nodes_matrix_product_with_a_dealer_that_answers_while_they_run(
    make_deployment: MakeDeployment, tmp_path: Path, n: int
) -> None:
    # integer products only: the last party starts before the dealer's corrections arrive
    a = np.array([[1, -2, 3], [4, 5, -6]])
    b = np.array([[7, 8], [-9, 10], [11, -12]])
    deployment = with_dealer(make_deployment, n, MATMUL, matrix_files(tmp_path, a, b))
    async with running_nodes(deployment), running_dealer(deployment):
        with trio.fail_after(60):
            outcome = await Client(deployment).run(MATMUL, params={"k": 3})
    assert np.asarray(outcome.outputs["ab"]).tolist() == (a @ b).tolist()
    received = outcome.stats["dealer_bytes_received"]
    assert received[str(n - 1)] > 2 * 2 * 8 > received.get("0", 0) == 0


def test_a_node_faults_in_a_working_set_that_grows_with_the_job_up_to_a_cap() -> None:
    from mpc.dsl import CompileSpec, compile, load_circuit
    from mpc.memory import MAX_WORKING_SET, working_set
    from mpc.suite import Suite

    circuit = load_circuit(MATMUL)
    sizes = []
    for rows in (16, 256, 4096):
        spec = CompileSpec(Suite.of("additive", 2), default_rows=rows, preprocessing="dealer")
        sizes.append(working_set(compile(circuit, spec)))
    # 256 rows: 1.5 MB sent and received per party, 1.5 MB of matrix triple
    assert sizes[0] < sizes[1] < sizes[2] == MAX_WORKING_SET
    assert 8 * 2**20 < sizes[1] < 32 * 2**20
    millionaires = load_circuit(SECURE_SUM.parent / "millionaires.py")
    spec = CompileSpec(Suite.of("additive", 2), default_rows=10**5)
    assert working_set(compile(millionaires, spec)) == 0  # garbled: no guess


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield None


async def test_a_dealer_that_is_not_running_fails_the_job_by_the_connect_deadline(
    make_deployment: MakeDeployment, tmp_path: Path
) -> None:
    # the last party dials the dealer while the mesh connects: its failure ends the job at once
    files = {0: {"x": decimals(tmp_path, "x", [1.5])}, 1: {"y": decimals(tmp_path, "y", [2.0])}}
    deployment = with_dealer(make_deployment, 2, INNER, files, connect=0.5)
    async with running_nodes(deployment):
        with trio.fail_after(20), pytest.raises(JobFailedError) as caught:
            await Client(deployment).run(INNER)
    assert failure_type(caught.value.failures[1]) == PeerUnreachableError.__name__
    assert "dealer: cannot connect" in str(caught.value.failures[1])


@pytest.mark.parametrize(
    ("behaviour", "error", "says"),
    [
        ("silent", "PeerTimeoutError", "dealer"),
        ("hangs up", "PeerBrokenError", "dealer: closed the connection before dealing"),
        ("wrong shapes", "PreprocessingError", "no valid c correction"),
    ],
)
async def test_a_dealer_that_fails_while_the_parties_run_fails_the_job(
    make_deployment: MakeDeployment, tmp_path: Path, behaviour: str, error: str, says: str
) -> None:
    # integer products: the last party is already online when the dealer lets it down
    from mpc.dealer import DealerNode
    from mpc.wire import DEALT, Frame

    class BadDealer(DealerNode):
        async def _answer(self, peer: object, request: Frame) -> Frame:
            if behaviour == "silent":
                await trio.sleep(math.inf)
            if behaviour == "hangs up":
                raise trio.ClosedResourceError
            answer = await super()._answer(peer, request)  # type: ignore[arg-type]
            for node in answer.payload["corrections"]:
                node[1]["c"] = node[1]["c"][:1]
            return Frame(request.session, 0, 0, answer.sender, DEALT, answer.payload)

    files = matrix_files(tmp_path, np.array([[1], [2]]), np.array([[3, 4]]))
    deployment = with_dealer(make_deployment, 2, MATMUL, files, round=1.0)
    dealer = BadDealer(deployment)
    async with running_nodes(deployment), trio.open_nursery() as nursery:
        await nursery.start(dealer.serve)
        with trio.fail_after(30), pytest.raises(JobFailedError) as caught:
            await Client(deployment).run(MATMUL, params={"k": 1})  # (2×1)·(1×2)
        nursery.cancel_scope.cancel()
    assert failure_type(caught.value.failures[1]) == error
    assert says in str(caught.value.failures[1])


async def test_dealer_refuses_anyone_but_the_last_party(make_deployment: MakeDeployment) -> None:
    from mpc.net import tls
    from mpc.net.mesh import dial
    from mpc.wire import DEAL, ERROR, Frame

    deployment = make_deployment(3, "additive", values=VALUES3, preprocessing="dealer")
    async with running_dealer(deployment):
        for party, refused in ((0, True), (2, False)):
            with trio.fail_after(10):
                channel = await dial(
                    deployment.dealer,
                    context=tls.client_context(deployment, party),
                    identities=tls.Identities.from_deployment(deployment),
                    deadline=trio.current_time() + 5,
                    limits=deployment.limits,
                )
                try:
                    request = {"domain": "Z64", "needs": [[1, "triple", [[3]], 0, 0]]}
                    await channel.send(Frame(b"s" * 16, 0, 0, party, DEAL, request))
                    answer = await channel.receive()
                finally:
                    await channel.aclose()
            assert (answer.kind == ERROR) == refused
            if refused:
                assert "only party 2 receives corrections" in answer.payload["message"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_node_peak_memory_is_its_own_not_its_spawners() -> None:
    """ru_maxrss starts at the spawning process's size (it survives fork and exec); a node's
    reported peak must not: a node started by a 300 MB process reports tens of MB."""
    code = (
        "import numpy as np\n"
        "big = np.ones(300 * 2**20 // 8)\n"
        "import subprocess, sys\n"
        "child = 'from mpc.usage import peak_rss_bytes; print(peak_rss_bytes())'\n"
        "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True,"
        " check=True).stdout)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 1 << 20 < int(done.stdout) < 200 << 20


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_node_peak_memory_window_restarts_per_job() -> None:
    """After a reset the peak is the current size, and it grows again with new memory. (In a
    fresh process: in the test process, freed memory may stay resident and be reused.)"""
    code = (
        "import numpy as np\n"
        "from mpc.usage import peak_rss_bytes, reset_peak_rss\n"
        "block = np.ones(100 * 2**20 // 8)\n"
        "before = peak_rss_bytes()\n"
        "del block\n"
        "reset_peak_rss()\n"
        "after = peak_rss_bytes()\n"
        "block = np.ones(50 * 2**20 // 8)\n"
        "print(before, after, peak_rss_bytes())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, grown = map(int, done.stdout.split())
    assert before >= 100 << 20
    assert after < before - (80 << 20)
    assert grown >= after + (40 << 20)

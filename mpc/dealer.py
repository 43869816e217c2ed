"""The trusted dealer process: `mpc dealer --config C`.

A separate process the deployment declares (`[dealer]`, with `deployment.preprocessing =
"dealer"`). For each job, only the last party (n − 1) asks it, over pinned mutual TLS, for the
corrections of the material the plan needs (kinds and shapes, never data); the dealer derives
every party's seeded shares from its ECDH keys with them (`mpc.preprocessing.dealer.deal`) and
answers with the corrections (the party's side: `ask_for_corrections`, `receive_corrections`).
The other parties derive their material locally and never talk to it. Any other principal is
refused: a correction in the wrong hands would be that party's share of someone else's material.

Threat model: the dealer is trusted not to collude with any party (README, threat-model table).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np
import trio

from mpc import keys
from mpc.config import Deployment
from mpc.errors import MpcError, PeerTimeoutError, RemoteProtocolError, from_wire, to_wire
from mpc.field import DOMAINS, load_ring_matmul
from mpc.net import tls
from mpc.net.channel import Channel
from mpc.preprocessing.dealer import CORRECTED, Corrections, deal
from mpc.rng import Csprng
from mpc.suite import Need
from mpc.wire import DEAL, DEALT, ERROR, Frame

log = logging.getLogger("mpc.dealer")
KINDS = tuple(CORRECTED)  # the kinds of material a dealer makes


def needs_to_wire(needs: tuple[Need, ...]) -> list[list[Any]]:
    return [[n.node, n.kind, [list(s) for s in n.shapes], n.bits, n.width] for n in needs]


def needs_from_wire(data: Any, peer: int | str, max_elements: int) -> tuple[Need, ...]:
    """Validated needs from a request; the total size is bounded by `max_elements`."""

    def bad(what: str) -> RemoteProtocolError:
        return RemoteProtocolError(peer, f"malformed dealer request: {what}")

    if not isinstance(data, list):
        raise bad("needs must be a list")
    needs, total = [], 0
    for item in data:
        if not isinstance(item, list) or len(item) != 5:
            raise bad("each need is [node, kind, shapes, bits, width]")
        node, kind, shapes, bits, width = item
        if not isinstance(node, int) or kind not in KINDS or not isinstance(shapes, list):
            raise bad("node, kind or shapes")
        if not all(
            isinstance(s, list) and all(isinstance(d, int) and d >= 0 for d in s) for s in shapes
        ):
            raise bad("shapes must be lists of non-negative ints")
        if not isinstance(bits, int) or not isinstance(width, int) or not 0 <= bits <= width <= 126:
            raise bad("bits and width")
        need = Need(node, kind, tuple(tuple(s) for s in shapes), bits, width)
        total += need.size
        if total > max_elements:
            raise bad(f"more than {max_elements} elements of material")
        needs.append(need)
    return tuple(needs)


def corrections_to_wire(corrections: Corrections) -> list[list[Any]]:
    return [[node, parts] for node, parts in corrections.items()]


def corrections_from_wire(data: Any, peer: int | str) -> Corrections:
    if not isinstance(data, list):
        raise RemoteProtocolError(peer, "malformed dealer answer")
    corrections: Corrections = {}
    for item in data:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], int)
            or not isinstance(item[1], dict)
            or not all(isinstance(v, np.ndarray) for v in item[1].values())
        ):
            raise RemoteProtocolError(peer, "malformed dealer answer")
        corrections[item[0]] = dict(item[1])
    return corrections


async def ask_for_corrections(
    channel: Channel, session: bytes, party: int, domain: str, needs: tuple[Need, ...]
) -> None:
    """The last party's request, over `channel` to the dealer, which starts dealing at once."""
    request = {"domain": domain, "needs": needs_to_wire(needs)}
    await channel.send(Frame(session, 0, 0, party, DEAL, request))


async def receive_corrections(channel: Channel, timeout: float) -> Corrections:
    """The dealer's answer to `ask_for_corrections`: its corrections, or the error it names."""
    with trio.move_on_after(timeout) as scope:
        answer = await channel.receive()
    if scope.cancelled_caught:
        raise PeerTimeoutError("dealer", "dealing", timeout)
    if answer.kind == ERROR:
        raise from_wire(answer.payload)
    if answer.kind != DEALT or not isinstance(answer.payload, dict):
        raise RemoteProtocolError("dealer", f"answered {answer.kind!r} to a deal request")
    return corrections_from_wire(answer.payload.get("corrections"), "dealer")


class DealerNode:
    """The dealer of one deployment."""

    def __init__(self, deployment: Deployment) -> None:
        if deployment.dealer is None:
            raise MpcError(f"{deployment.path}: the deployment declares no [dealer]")
        self.deployment = deployment
        self.config = deployment.dealer
        self.identities = tls.Identities.from_deployment(deployment)
        self._context = tls.server_context(deployment, tls.DEALER)
        self._key = keys.load_private_key(self.config.key)
        self._certificates = {
            p.id: keys.load_certificate(p.certificate) for p in deployment.parties
        }
        self.jobs_dealt = 0

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        load_ring_matmul()  # before listening: matrix triples need it, a job should not wait
        listeners = await trio.open_tcp_listeners(self.config.port, host=self.config.host)
        log.info("dealer listening on %s:%d", self.config.host, self.config.port)
        task_status.started(listeners)
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, tcp: trio.SocketStream) -> None:
        try:
            await self._serve(tcp)
        except Exception:
            log.exception("unexpected error while dealing")

    async def _serve(self, tcp: trio.SocketStream) -> None:
        timeouts, limits = self.deployment.timeouts, self.deployment.limits
        stream = tls.wrap(tcp, self._context, server_side=True)
        try:
            peer = await tls.handshake(
                stream,
                self.identities,
                expect=None,
                timeout=timeouts.connect,
                peer_label="connection",
            )
        except MpcError as error:
            log.warning("refused a connection: %s", error)
            return
        channel = Channel(
            stream,
            peer,
            max_frame_bytes=limits.max_frame_bytes,
            max_message_bytes=limits.max_message_bytes,
        )
        try:
            with trio.fail_after(timeouts.round):
                request = await channel.receive()
            answer = await self._answer(peer, request)
            await channel.send(answer)
        except (MpcError, trio.TooSlowError) as error:
            failure = (
                error
                if isinstance(error, MpcError)
                else RemoteProtocolError(peer, "no request in time")
            )
            log.warning("dealer: %s", failure)
            with trio.move_on_after(1.0), contextlib.suppress(MpcError):
                await channel.send(Frame(b"", 0, 0, tls.DEALER, ERROR, to_wire(failure)))
        finally:
            await channel.aclose()

    async def _answer(self, peer: tls.Principal, request: Frame) -> Frame:
        last = self.deployment.n_parties - 1
        if peer != last:
            raise RemoteProtocolError(
                peer, f"only party {last} receives corrections from the dealer"
            )
        if request.kind != DEAL or not isinstance(request.payload, dict):
            raise RemoteProtocolError(peer, f"expected a deal request, got {request.kind!r}")
        domain = DOMAINS.get(str(request.payload.get("domain")))
        if domain is None or len(request.session) != 16:
            raise RemoteProtocolError(peer, "malformed dealer request: domain or session")
        max_elements = self.deployment.limits.max_message_bytes // 16
        needs = needs_from_wire(request.payload.get("needs"), peer, max_elements)
        n = self.deployment.n_parties
        pair = keys.pair_keys(self._key, n, self._certificates, request.session)
        corrections = await trio.to_thread.run_sync(
            lambda: deal(domain, needs, pair, request.session, Csprng())
        )
        self.jobs_dealt += 1
        log.info("dealt %d batches for job %s", len(needs), request.session.hex()[:8])
        return Frame(
            request.session,
            0,
            0,
            tls.DEALER,
            DEALT,
            {"corrections": corrections_to_wire(corrections)},
        )

"""Two-party preprocessing with no dealer: Gilboa products over IKNP correlated OT.

Parties 0 and 1 make all the material of a job themselves, in 4 rounds:

    rounds 1–2  base OTs for two IKNP sessions at once, one per direction (party p is the
                extension sender of session p and the receiver of session 1 − p): round 1 carries
                each party's base-OT key A and TCR hash key (as extension receiver), round 2 each
                party's 128 base-OT public-key pairs (as extension sender);
    round 3     one IKNP extension batch per direction: each party sends u for every OT it
                receives in (all needs, all kinds, one matrix);
    round 4     each party sends one flat array of corrections y for every OT it sends in.

Products (Gilboa, CRYPTO 1999). A cross term v·D with the vector D (w elements) at the sender
and the value v at the receiver takes one correlated OT per bit v_k of v (k < ℓ; ℓ = 64 in
Z_2^64, 61 in F_(2^61−1), 127 in F_(2^127−1)). From the random-OT pads of OT (k, j) the sender
makes domain elements X0, X1 (w each), the receiver X_{v_k}:

    sender → receiver   y = X0 + Δ_k − X1               (Δ_k = D·2^k mod p)
    receiver            Z_k = X_{v_k} + v_k·y = X0 + v_k·Δ_k
    shares              receiver Σ_k Z_k,   sender −Σ_k X0   (they sum to v·D)

In Z_2^64 the shift moves out of the OT (Δ_k = D, shares Σ_k Z_k·2^k and −Σ_k X0·2^k), so only
the low 64 − k bits of y_k matter; y_k and y_(64−k) share one word (64 − k + k bits): 33 words
per 64 OTs instead of 64. In a field the pads are 128 hash bits reduced mod p (statistical
distance from uniform 2^−122 for F61, 2^−127 for F127, per element); the corrections are field
elements (1 word for F61, 2 for F127) and are checked to be canonical on arrival.

Material per kind (each party i draws its own values from its Csprng; additive shares out):
- `triple`: a_i, b_i; c_i = a_i·b_i + ⟨a_0·b_1⟩_i + ⟨a_1·b_0⟩_i, the two cross terms in opposite
  directions (party p sends with Δ = a_p·2^k on the bits of b_(1−p)), so both run concurrently.
- `square`: a_i; c_i = a_i² + 2⟨a_0·a_1⟩_i, the cross term split in halves between directions.
- `matrix` A (m×k), B (k×n): C_i = A_i@B_i + ⟨A_0@B_1⟩_i + ⟨A_1@B_0⟩_i. With n ≤ m a cross term
  A_p@B_q takes k·n·ℓ OTs on the bits of B_q's entries with Δ = the column A_p[:, i]·2^bit (an
  m-element message); with n > m, m·k·ℓ OTs on the bits of A_p's entries with Δ = the row
  B_q[i, :]·2^bit (n elements). Cost O(k·min(m, n)·ℓ) OTs of max(m, n) elements per cross term,
  so the corrections (ℓ·k·m·n elements, or 33/64 of that in Z_2^64) dominate for big matrices.
- `trunc` (m bits, width l): party i draws bits b_i (m per element) and r''_i uniform in
  [0, 2^(l+κ−m)) (κ = mpc.suite.KAPPA). The bits of r' are b = b_0 ⊕ b_1 = b_0 + b_1 − 2·b_0·b_1;
  b_0·b_1 is a Gilboa product with ℓ = 1: one correlated OT per bit with Δ = b_p as a domain
  element (1 or 0), the bits split in halves between directions. Shares: low_i = Σ_j 2^j·⟨b_j⟩_i,
  mask_i = 2^m·r''_i + low_i. So r' is uniform in [0, 2^m) and r'' = r''_0 + r''_1 is an integer
  below 2^(l+κ−m+1): the masked opening of Catrina–Saxena truncation stays below
  2^l + 2·2^(l+κ), which the compiler provides for when it sizes the field — `choose_domain` in
  mpc/dsl/compiler.py uses contributors = t + 1 = 2 for n = 2 with this provider and
  `truncation_fits` in mpc/dsl/types.py checks 2^l + contributors·2^(l+κ) < p. Either party's
  uniform r''_i alone hides the opened value statistically (2^−κ), as with the dealer.

Cost (derived; u = κ_OT = 128 bits per OT from receiver to sender, y as above):

| material (per element)  | OTs      | bytes, both parties together                  |
|-------------------------|----------|-----------------------------------------------|
| triple, Z_2^64          | 2·64     | 2·(64·16 + 33·8) = 2576                       |
| triple, F61             | 2·61     | 2·61·(16 + 8)  = 2928                         |
| triple, F127            | 2·127    | 2·127·(16 + 16) = 8128                        |
| square                  | 64/61/127| half a triple                                 |
| trunc (m bits)          | m        | m·(16 + 8e), e = 1 (Z_2^64, F61), 2 (F127)    |
| matrix (m×k)@(k×n)      | 2·ℓ·k·s  | 2·ℓ·k·s·16 + 2·k·s·t·(33·8 in Z_2^64, ℓ·8e)   |

(s = min(m, n), t = max(m, n)). PROTOCOLS.md §3.2 derives 2(ℓκ + ℓ(ℓ+1)/2) bits = 2568 bytes
for a Z_2^64 triple; the 8 more here are the half-used 33rd word. Once per job comes the set-up
(48 + 8192 bytes from each party, 128 X25519 base OTs per direction), and each direction's batch
is rounded up to a multiple of 64 OTs. `cost(domain, needs)` computes the exact figures of a
job. Computation per OT: IKNP (PRG, 128×m bit transpose) and one TCR hash block per 2 message
words at the receiver, two at the sender; no public-key operation beyond the base OTs.

[measured, benchmarks/micro_ot_triples.py, 2-core VM, both parties in one process on one core]
10^5 Z_2^64 triples in 2.6 s (12.8 M OTs; ≈ 39 K triples/s for the pair, so ≈ 80 K/s of one
party's work), 2576.0 bytes each; 10^4 F127 truncation pairs (m = 16) in 0.35 s, 512 bytes
each; set-up 0.23 s. Memory grows with the batch: about 11 KB per Z_2^64 triple for both
parties together (peak 1.1 GB for 10^5), so an engine that wants less should split huge jobs.

Threat model: semi-honest, exactly two parties, no third party (the additive suite's n − 1 = 1
corruption). Each party's view is the base-OT transcript, u and the corrections y. u is masked
by PRG outputs of the base-OT seeds the sender does not hold; each y is masked by the hash pad of
the OT message the receiver did not choose (TCR hash over fixed-key AES, random-permutation
model), so the OTs leak nothing beyond semi-honest IKNP and base OT (mpc.ot.iknp, mpc.ot.base),
and every share a party outputs is uniform given its view. All randomness comes from the
party's own Csprng, never from the pair keys (which both parties hold). Not secure against an
active adversary: a malicious sender can send inconsistent Δs (a selective-failure attack on the
receiver's bits, which MASCOT defeats with a consistency check and sacrifice), IKNP without the
KOS15 check lets a malicious receiver with inconsistent choices learn bits of the sender's s, and
the base OT is only semi-honest (mpc.ot.base).

References: N. Gilboa, "Two Party RSA Key Generation", CRYPTO 1999; Y. Ishai, J. Kilian,
K. Nissim, E. Petrank, CRYPTO 2003; M. Keller, E. Orsini, P. Scholl, "MASCOT", CCS 2016;
O. Catrina, A. Saxena, FC 2010; PROTOCOLS.md §2.3, §3.2, §4.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mpc.errors import LocalProtocolError, PreprocessingError, RemoteProtocolError
from mpc.field import Domain, MersenneField61, MersenneField127
from mpc.field.mersenne127 import from_words
from mpc.gc.aes import KEY_BYTES
from mpc.ot import base, iknp
from mpc.ot.iknp import KAPPA as OT_KAPPA
from mpc.ot.iknp import IknpReceiver, IknpSender, ReceiverBatch, SenderBatch
from mpc.ot.payload import expect_array
from mpc.preprocessing.store import Store, components
from mpc.protocols.context import Context, Exchange, Run
from mpc.suite import KAPPA, Need, Suite

ROUNDS = 4
U64 = np.uint64
_M63 = U64(2**63 - 1)
_ALL = U64(2**64 - 1)
_SETUP_BYTES = base.POINT_BYTES + KEY_BYTES + OT_KAPPA * 2 * base.POINT_BYTES


def offline_rounds(suite: Suite, needs: Sequence[Need]) -> int:
    """Communication rounds `generate` takes for these needs: 4 (set-up 2, extension 2), or 0."""
    return ROUNDS if needs else 0


# --- what is multiplied: public structure of the OT batches ---------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """Gilboa products of `count` receiver values (`bits` OTs each) with w-element vectors."""

    sender: int
    count: int
    width: int  # elements per OT message (the sender's vector)
    bits: int  # OTs per receiver value: ℓ, or 1 for products of bits

    @property
    def ots(self) -> int:
        return self.bits * self.count

    def correction_words(self, domain: Domain) -> int:
        """uint64 words of the corrections y the sender sends for this job."""
        if not domain.is_field and self.bits == 64:
            return _PACKED_ROWS * self.count * self.width
        return self.ots * self.width * _element_words(domain)


def _value_bits(domain: Domain) -> int:
    return domain.modulus.bit_length() if domain.is_field else 64


def _element_words(domain: Domain) -> int:
    return domain.dtype.itemsize // 8


def _pad_words(domain: Domain, width: int) -> int:
    """Hash words per OT for `width` message elements: 128 bits per element reduced mod p in a
    field; in Z_2^64 one word per element, rounded up to whole 128-bit hash blocks (so the pads
    come back without a copy and `_uniform` takes the first `width` words of each)."""
    return 2 * width if domain.is_field else 2 * (-(-width // 2))


def _matrix_dims(need: Need) -> tuple[int, int, int, bool]:
    """(m, k, n) of A (m×k) @ B (k×n), vectors taken as 1×k and k×1; and whether the OTs run on
    the bits of B's entries (n ≤ m: k·n values, m-element columns of A as messages)."""
    a, b = need.shapes
    if len(a) not in (1, 2) or len(b) not in (1, 2) or a[-1] != b[0]:
        raise PreprocessingError(f"matrix triple of node {need.node}: shapes {a} @ {b}")
    m, k = (1, a[0]) if len(a) == 1 else (a[0], a[1])
    n = 1 if len(b) == 1 else b[1]
    return m, k, n, n <= m


def _jobs(domain: Domain, need: Need) -> list[_Job]:
    """The OT jobs of one need, in the order both parties batch them."""
    ell = _value_bits(domain)
    if need.kind == "triple":
        size = math.prod(need.shapes[0])
        return [_Job(0, size, 1, ell), _Job(1, size, 1, ell)]
    if need.kind == "square":
        size = math.prod(need.shapes[0])
        half = (size + 1) // 2
        return [_Job(0, half, 1, ell), _Job(1, size - half, 1, ell)]
    if need.kind == "matrix":
        m, k, n, on_b = _matrix_dims(need)
        if on_b:
            return [_Job(0, k * n, m, ell), _Job(1, k * n, m, ell)]
        return [_Job(1, m * k, n, ell), _Job(0, m * k, n, ell)]
    if need.kind == "trunc":
        size = need.bits * math.prod(need.shapes[0])
        half = (size + 1) // 2
        return [_Job(0, half, 1, 1), _Job(1, size - half, 1, 1)]
    raise PreprocessingError(f"unknown kind of preprocessed material {need.kind!r}")


@dataclass(frozen=True, slots=True)
class Cost:
    """A job's OT preprocessing: OTs per direction and payload bytes each party sends."""

    ots: tuple[int, int]  # OTs with party 0 / party 1 as the extension sender
    bytes_sent: tuple[int, int]  # by party 0 / party 1, over all rounds (payload arrays only)

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes_sent)


def cost(domain: Domain, needs: Sequence[Need]) -> Cost:
    """Exact OT counts and payload bytes of `generate` for these needs (0 when there are none)."""
    if not needs:
        return Cost((0, 0), (0, 0))
    jobs = [job for need in needs for job in _jobs(domain, need)]
    ots = [sum(j.ots for j in jobs if j.sender == p) for p in (0, 1)]
    corrections = [sum(j.correction_words(domain) for j in jobs if j.sender == p) for p in (0, 1)]
    sent = [
        _SETUP_BYTES + OT_KAPPA * iknp.padded(ots[1 - p]) // 8 + 8 * corrections[p] for p in (0, 1)
    ]
    return Cost((ots[0], ots[1]), (sent[0], sent[1]))


# --- what each party holds: its random values and how its shares combine ------------------------

Finish = Callable[[list[np.ndarray]], tuple[np.ndarray, ...]]


@dataclass(frozen=True, slots=True)
class _Recipe:
    """One need at one party: its input to each job (vectors (count, w) where it sends, values
    (count,) where it receives) and how the job shares (count, w) become the need's components."""

    inputs: list[np.ndarray]
    finish: Finish


def _recipe(ctx: Context, need: Need) -> _Recipe:
    field, me = ctx.domain, ctx.party
    if need.kind in ("triple", "square"):
        shape = need.shapes[0]
        a = field.random(ctx.rng, shape).reshape(-1)
        if need.kind == "square":
            half = (a.size + 1) // 2
            parts = [a[:half], a[half:]]  # job p: party p sends its a (first / second half)
            inputs = [part.reshape(-1, 1) if me == p else part for p, part in enumerate(parts)]

            def finish_square(shares: list[np.ndarray]) -> tuple[np.ndarray, ...]:
                cross = np.concatenate([s.reshape(-1) for s in shares])
                c = field.mul_scalar_add(cross, 2, field.mul(a, a))
                return a.reshape(shape), c.reshape(shape)

            return _Recipe(inputs, finish_square)
        b = field.random(ctx.rng, shape).reshape(-1)
        inputs = [a.reshape(-1, 1) if me == p else b for p in (0, 1)]  # job p: a_p · b_(1−p)

        def finish_triple(shares: list[np.ndarray]) -> tuple[np.ndarray, ...]:
            c = field.mul(a, b)
            for share in shares:
                c = field.add(c, share.reshape(-1))
            return a.reshape(shape), b.reshape(shape), c.reshape(shape)

        return _Recipe(inputs, finish_triple)
    if need.kind == "matrix":
        return _matrix_recipe(ctx, need)
    if need.kind == "trunc":
        return _trunc_recipe(ctx, need)
    raise PreprocessingError(f"unknown kind of preprocessed material {need.kind!r}")


def _matrix_recipe(ctx: Context, need: Need) -> _Recipe:
    field, me = ctx.domain, ctx.party
    (_, a_shape), (_, b_shape), (_, c_shape) = components(need)
    m, k, n, on_b = _matrix_dims(need)
    a = field.random(ctx.rng, a_shape).reshape(m, k)
    b = field.random(ctx.rng, b_shape).reshape(k, n)
    if on_b:  # cross term A_p @ B_(1−p): party p sends the columns of A_p, on B_(1−p)'s bits
        columns = np.broadcast_to(a.T[:, None, :], (k, n, m)).reshape(k * n, m)
        inputs = [columns if me == p else b.reshape(-1) for p in (0, 1)]
    else:  # party 1 − p sends the rows of B_(1−p), on the bits of A_p's entries
        rows = np.broadcast_to(b[None, :, :], (m, k, n)).reshape(m * k, n)
        inputs = [a.reshape(-1) if me == p else rows for p in (0, 1)]

    def finish(shares: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        c = field.matmul(a, b)
        for share in shares:
            if on_b:  # share[(i, c)] = B[i, c]·A[:, i]: sum over i, then (n, m) → (m, n)
                term = np.ascontiguousarray(field.sum(share.reshape(k, n, m), axis=0).T)
            else:  # share[(r, i)] = A[r, i]·B[i, :]: sum over i
                term = field.sum(share.reshape(m, k, n), axis=1)
            c = field.add(c, term)
        return a.reshape(a_shape), b.reshape(b_shape), c.reshape(c_shape)

    return _Recipe(inputs, finish)


def _trunc_recipe(ctx: Context, need: Need) -> _Recipe:
    field, me = ctx.domain, ctx.party
    shape = need.shapes[0]
    bits = field.encode(ctx.rng.bits((need.bits, *shape)).astype(np.int64)).reshape(-1)
    high = field.random_bits(ctx.rng, shape, need.width + KAPPA - need.bits)
    half = (bits.size + 1) // 2
    parts = [bits[:half], bits[half:]]  # job p: party p sends Δ = its bit, on the other's bit
    inputs = [part.reshape(-1, 1) if me == p else part for p, part in enumerate(parts)]

    def finish(shares: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        product = np.concatenate([s.reshape(-1) for s in shares])  # ⟨b_0·b_1⟩
        xor = field.sub(bits, field.mul_scalar(product, 2)).reshape(need.bits, *shape)
        low = field.zeros(shape)
        for j in range(need.bits):  # one pass per bit position of r'
            low = field.mul_scalar_add(xor[j], 1 << j, low)
        mask = field.mul_scalar_add(high, 1 << need.bits, low)
        return low, mask

    return _Recipe(inputs, finish)


# --- the protocol -----------------------------------------------------------------------------


def _check(ctx: Context) -> int:
    """The peer's id; LocalProtocolError unless this is party 0 or 1 of a 2-party additive job."""
    suite = ctx.suite
    if suite.protocol != "additive" or suite.n_parties != 2 or ctx.party not in (0, 1):
        raise LocalProtocolError(
            "the OT preprocessing provider serves the additive suite with exactly 2 parties"
        )
    domain = ctx.domain
    if domain.is_field and not isinstance(domain, MersenneField61 | MersenneField127):
        raise LocalProtocolError(f"the OT preprocessing provider has no pads for {domain.name}")
    return 1 - ctx.party


def _session(ctx: Context, sender: int) -> bytes:
    """The base-OT session label of the IKNP session in which `sender` is the extension sender."""
    return ctx.session + b"/mpc.preprocessing.ot_triples/" + bytes([sender])


def generate(ctx: Context, needs: Sequence[Need]) -> Run[Store]:
    """This party's additive shares of the material for `needs` (a `Store`), in 4 rounds."""
    store = Store()
    if not needs:
        return store
    peer = _check(ctx)
    me, domain = ctx.party, ctx.domain
    recipes = [_recipe(ctx, need) for need in needs]
    jobs = [job for need in needs for job in _jobs(domain, need)]
    inputs = [x for recipe in recipes for x in recipe.inputs]

    # Round 1: as extension receiver (base-OT sender), A and the TCR hash key.
    state = base.sender_start(ctx.rng, _session(ctx, peer))
    hash_key = ctx.rng.bytes(KEY_BYTES)
    received = yield Exchange(
        {peer: [np.frombuffer(state.public, np.uint8).copy(), np.frombuffer(hash_key, np.uint8)]},
        frozenset({peer}),
    )
    peer_public = expect_array(received, peer, 0, np.uint8, (base.POINT_BYTES,), "base OT key")
    peer_key = expect_array(received, peer, 1, np.uint8, (KEY_BYTES,), "TCR hash key")

    # Round 2: as extension sender (base-OT receiver with choices s), the public-key pairs.
    s = ctx.rng.bits(OT_KAPPA)
    try:
        message, seeds = base.receiver_respond(ctx.rng, _session(ctx, me), peer_public.tobytes(), s)
    except ValueError:
        raise RemoteProtocolError(
            peer, "base OT: the sender's key is a small-order point"
        ) from None
    received = yield Exchange({peer: [message]}, frozenset({peer}))
    keys = expect_array(
        received, peer, 0, np.uint8, (OT_KAPPA, 2, base.POINT_BYTES), "base OT public keys"
    )
    try:
        seeds0, seeds1 = base.sender_finish(state, keys)
    except ValueError:
        raise RemoteProtocolError(peer, "base OT: a public key is a small-order point") from None
    receiver = IknpReceiver(seeds0, seeds1, hash_key)
    sender = IknpSender(s, seeds, peer_key.tobytes())

    # Round 3: u for every OT this party receives in, one batch.
    receiving = [i for i, job in enumerate(jobs) if job.sender == peer]
    sending = [i for i, job in enumerate(jobs) if job.sender == me]
    choices = [_bits(domain, inputs[i], jobs[i].bits).reshape(-1) for i in receiving]
    m_receive = sum(jobs[i].ots for i in receiving)
    m_send = sum(jobs[i].ots for i in sending)
    r_batch = receiver.extend(np.concatenate(choices)) if m_receive else None
    u = r_batch.u if r_batch is not None else np.zeros((OT_KAPPA, 0), np.uint8)
    received = yield Exchange({peer: [u]}, frozenset({peer}))
    peer_u = expect_array(
        received, peer, 0, np.uint8, (OT_KAPPA, iknp.padded(m_send) // 8), "IKNP matrix u"
    )

    # Round 4: the corrections y for every OT this party sends in, one array.
    shares: dict[int, np.ndarray] = {}
    corrections: list[np.ndarray] = []
    s_batch = sender.extend(peer_u, m_send) if m_send else None
    offset = 0
    for i in sending:
        job = jobs[i]
        if s_batch is None or not job.ots:
            shares[i] = domain.zeros((job.count, job.width))
            continue
        rows = SenderBatch(s_batch.rows[offset : offset + job.ots], s_batch.first_index + offset)
        shares[i], y = _send(domain, sender, rows, job, inputs[i])
        corrections.append(y)
        offset += job.ots
    y_all = np.concatenate(corrections) if corrections else np.zeros(0, U64)
    received = yield Exchange({peer: [y_all]}, frozenset({peer}))
    expected = sum(jobs[i].correction_words(domain) for i in receiving)
    peer_y = expect_array(received, peer, 0, np.uint64, (expected,), "OT corrections")

    offset, position = 0, 0
    for i in receiving:
        job = jobs[i]
        size = job.correction_words(domain)
        if r_batch is None or not job.ots:
            shares[i] = domain.zeros((job.count, job.width))
            continue
        part = ReceiverBatch(
            r_batch.u,
            r_batch.rows[offset : offset + job.ots],
            r_batch.choices[offset : offset + job.ots],
            r_batch.first_index + offset,
        )
        y = peer_y[position : position + size]
        shares[i] = _receive(domain, receiver, part, job, y, peer)
        offset += job.ots
        position += size

    first = 0
    for need, recipe in zip(needs, recipes, strict=True):
        count = len(recipe.inputs)
        store.put(need, recipe.finish([shares[first + j] for j in range(count)]))
        first += count
    return store


# --- one job, sender and receiver side ----------------------------------------------------------

_PACKED_ROWS = 33  # words per 64 OTs in Z_2^64: y_0, (y_k, y_(64−k)) for k < 32, y_32
_K = np.arange(1, 32, dtype=U64)[:, None, None]
_LOW = (U64(1) << (U64(64) - _K)) - U64(1)  # low 64 − k bits
_SHIFTS = np.arange(64, dtype=U64)[:, None, None]


def _pack64(y: np.ndarray) -> np.ndarray:
    """(64, N, w) corrections → (33, N, w): word k < 32 holds y_k mod 2^(64−k) and y_(64−k)
    mod 2^k above it (the receiver needs y_k only mod 2^(64−k): its output is shifted by k)."""
    out = np.empty((_PACKED_ROWS, *y.shape[1:]), dtype=U64)
    out[0] = y[0]
    np.bitwise_or(y[1:32] & _LOW, y[63:32:-1] << (U64(64) - _K), out=out[1:32])
    out[32] = y[32] & U64(2**32 - 1)
    return out


def _unpack64(packed: np.ndarray) -> np.ndarray:
    """(33, N, w) → (64, N, w) corrections, each y_k correct mod 2^(64−k) (all that matters)."""
    y = np.empty((64, *packed.shape[1:]), dtype=U64)
    y[0] = packed[0]
    y[1:32] = packed[1:32]  # the high part is y_(64−k)·2^(64−k), gone after the shift by k
    y[32] = packed[32]
    y[63:32:-1] = packed[1:32] >> (U64(64) - _K)
    return y


def _bits(domain: Domain, values: np.ndarray, bits: int) -> np.ndarray:
    """(bits, N) uint8: bit k of each of the N elements (little-endian words)."""
    count = values.size
    words = _to_words(domain, values.reshape(-1))
    octets = words.view(np.uint8).reshape(count, 8 * _element_words(domain))
    unpacked = np.unpackbits(octets, axis=1, bitorder="little")
    return np.ascontiguousarray(unpacked[:, :bits].T)


def _to_words(domain: Domain, elements: np.ndarray) -> np.ndarray:
    """(…, e) uint64 view of domain elements (e = 1, or 2 for F127)."""
    array = np.ascontiguousarray(elements)
    return array.reshape(-1).view(U64).reshape(*array.shape, _element_words(domain))


def _from_words(domain: Domain, words: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(words, dtype=U64)
    return array.reshape(-1).view(domain.dtype).reshape(array.shape[:-1])


def _uniform(domain: Domain, pads: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Domain elements of `shape` from hash pads (one word each in Z_2^64, two in a field)."""
    if not domain.is_field:
        return pads[:, : shape[-1]].reshape(shape)
    pairs = pads.reshape(-1, 2)
    lo, hi = pairs[:, 0], pairs[:, 1]
    if isinstance(domain, MersenneField61):  # lo + hi·2^64 ≡ lo + 8·hi (mod 2^61 − 1)
        return domain.mul_scalar_add(domain.reduce(hi), 8, domain.reduce(lo)).reshape(shape)
    # F127: lo + hi·2^64 = (that below 2^127) + bit 127, and 2^127 ≡ 1
    below = from_words(lo, hi & _M63)  # ≤ p; `add` maps p to 0
    top = from_words(hi >> U64(63), np.zeros(lo.shape, U64))
    return domain.add(below, top).reshape(shape)


def _send(
    domain: Domain, sender: IknpSender, batch: SenderBatch, job: _Job, vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The sender's share (N, w) of v·D and its corrections (flat uint64) for one job."""
    shape = (job.bits, job.count, job.width)
    x0, x1 = iknp.sender_pads(sender, batch, _pad_words(domain, job.width))
    zero, one = _uniform(domain, x0, shape), _uniform(domain, x1, shape)
    if not domain.is_field:  # Z_2^64: Δ = D in every OT, shifts applied to the outputs
        y = np.subtract(np.add(zero, vectors[None], dtype=U64), one, dtype=U64)
        share = np.sum(zero << _SHIFTS[: job.bits], axis=0, dtype=U64)
        wire = _pack64(y) if job.bits == 64 else y
        return np.subtract(U64(0), share, dtype=U64), wire.reshape(-1)
    scaled = np.empty(shape, dtype=domain.dtype)  # Δ_k = D·2^k
    scaled[0] = vectors
    for k in range(1, job.bits):  # one pass per bit position
        scaled[k] = domain.add(scaled[k - 1], scaled[k - 1])
    y = domain.sub(domain.add(zero, scaled), one)
    return domain.neg(domain.sum(zero, axis=0)), _to_words(domain, y).reshape(-1)


def _receive(
    domain: Domain,
    receiver: IknpReceiver,
    batch: ReceiverBatch,
    job: _Job,
    y_words: np.ndarray,
    peer: int,
) -> np.ndarray:
    """The receiver's share (N, w) of v·D for one job, from the sender's corrections."""
    shape = (job.bits, job.count, job.width)
    chosen = _uniform(
        domain, iknp.receiver_pads(receiver, batch, _pad_words(domain, job.width)), shape
    )
    choices = batch.choices.reshape(job.bits, job.count, 1).astype(U64)
    if not domain.is_field:
        y = (
            _unpack64(y_words.reshape(_PACKED_ROWS, job.count, job.width))
            if job.bits == 64
            else y_words.reshape(shape)
        )
        z = np.add(chosen, y * choices, dtype=U64)
        return np.asarray(np.sum(z << _SHIFTS[: job.bits], axis=0, dtype=U64))
    words = y_words.reshape(*shape, _element_words(domain))
    _check_elements(domain, words, peer)
    selected = _from_words(domain, words & np.subtract(U64(0), choices)[..., None])
    return domain.sum(domain.add(chosen, selected), axis=0)


def _check_elements(domain: Domain, words: np.ndarray, peer: int) -> None:
    """RemoteProtocolError unless the words are canonical elements of the field."""
    if isinstance(domain, MersenneField61):
        bad = bool(np.any(words >= U64(domain.modulus)))
    else:
        hi, lo = words[..., 1], words[..., 0]
        bad = bool(np.any(hi > _M63) or np.any((hi == _M63) & (lo == _ALL)))
    if bad:
        raise RemoteProtocolError(peer, f"OT corrections: not elements of {domain.name}")

"""What each protocol suite is: its parameters, who sends what to whom, what preprocessing needs.

The DSL's cost model and the protocols both read the communication pattern from here, so the
bytes that `Plan.cost()` predicts are the bytes the protocols send. The arithmetic domain is
chosen per plan (`mpc.dsl`): the smallest of Z_2^64, F_(2^61−1), F_(2^127−1) that holds it.

| suite      | domain        | parties | corruption tolerated (semi-honest) |
|------------|---------------|---------|-------------------------------------|
| `additive` | Z_2^64        | n ≥ 2   | any n − 1 colluding parties         |
| `shamir`   | F_p, p=2^61−1 | n ≥ 3   | t < n/2 colluding parties           |

Party i evaluates Shamir polynomials at the point i + 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

PROTOCOLS = ("shamir", "additive")
KAPPA = 40  # statistical security of masked openings (truncation): 2^-40
DEALER, HONEST_MAJORITY, OT = "dealer", "honest-majority", "ot"
PROVIDERS = (DEALER, HONEST_MAJORITY, OT)


@dataclass(frozen=True, slots=True)
class Need:
    """Preprocessed material one node consumes, exactly once.

    kinds: `triple` (a, b, c = a·b of `shapes[0]`), `square` (a, a²), `matrix` (A, B, C = A@B of
    shapes A = shapes[0], B = shapes[1]), `trunc` (r' < 2^bits and r = r''·2^bits + r' with
    r'' < 2^(width + κ − bits), of `shapes[0]`).
    """

    node: int
    kind: str
    shapes: tuple[tuple[int, ...], ...]
    bits: int = 0
    width: int = 0

    @property
    def size(self) -> int:
        total = 0
        for shape in self.shapes:
            count = 1
            for d in shape:
                count *= d
            total += count
        return total


def provider_problem(protocol: str, n_parties: int, provider: str | None) -> str | None:
    """Why `provider` cannot preprocess for this suite (None when it can)."""
    if provider is None:
        if protocol == "additive":
            return (
                "products and truncations of the additive suite need preprocessing: set "
                "deployment.preprocessing to 'dealer' (a trusted dealer process) or, with n ≥ 3, "
                "'honest-majority' (the parties make it themselves; tolerates t < n/2 colluding "
                "parties instead of n − 1); with n = 2 the default is 'ot'"
            )
        return None
    if provider not in PROVIDERS:
        return f"unknown preprocessing provider {provider!r} (choose one of {', '.join(PROVIDERS)})"
    if protocol == "shamir" and provider in (DEALER, OT):
        return (
            f"the shamir suite makes its own preprocessing; {provider!r} serves the additive suite"
        )
    if provider == HONEST_MAJORITY and n_parties < 3:
        return "'honest-majority' preprocessing needs n ≥ 3 parties; with 2 use 'ot' or 'dealer'"
    if provider == OT and n_parties != 2:
        return (
            "'ot' preprocessing is two-party (n = 2); with n ≥ 3 use 'honest-majority' or 'dealer'"
        )
    return None


def default_provider(protocol: str, n_parties: int) -> str | None:
    """The provider a plan gets when its config names none: the parties' own, never a dealer."""
    if protocol == "shamir":
        return HONEST_MAJORITY
    return OT if n_parties == 2 else None


PIPELINE_BATCH = 1 << 14  # comparisons per batch when a big comparison group is pipelined
PIPELINE_DEPTH = 16  # at most this many batches in flight


def pipeline_batches(sizes: Sequence[int]) -> int:
    """Batches a comparison group of these node sizes runs in (mpc.protocols.compare): while
    the garbler garbles batch i the evaluator evaluates batch i − 1 and extends OTs for i + 1."""
    return max(min(PIPELINE_DEPTH, -(-size // PIPELINE_BATCH)) for size in (1, *sizes))


def boolean_comparisons(suite: Suite, domain: str, provider: str | None) -> bool:
    """Whether comparisons run on boolean shares with the dealer's word triples
    (mpc.protocols.bitcompare) instead of a garbled circuit: two additive parties in Z_2^64
    whose deployment has a dealer."""
    return (
        suite.protocol == "additive"
        and suite.n_parties == 2
        and domain == "Z64"
        and provider == DEALER
    )


def _span(width: int, test: str) -> int:
    return max(1, width - 1 if test == "ltz" else width)


def boolean_levels(width: int, test: str) -> int:
    """Levels of the word-wise prefix (ltz: the carry into bit width − 1, over width − 1 bits)
    or AND tree (eqz: over width bits) of a boolean comparison."""
    return (_span(width, test) - 1).bit_length()


def boolean_lane(width: int, test: str) -> int:
    """Bits of a comparison's lane in a 64-bit word: the span rounded up to a power of two
    (64 // lane comparisons share each word)."""
    return 1 << boolean_levels(width, test)


def boolean_words(size: int, width: int, test: str) -> int:
    """64-bit words that `size` comparisons take."""
    lanes = 64 // boolean_lane(width, test)
    return -(-size // lanes)


def boolean_ands(width: int, test: str) -> int:
    """64-bit word ANDs per comparison: ltz 1 (generate) + 2 per prefix level but the last
    (propagate and generate) + 1; eqz 1 per level."""
    levels = boolean_levels(width, test)
    if test != "ltz":
        return levels
    return 1 + max(0, 2 * levels - 1)


def boolean_and_rounds(width: int, test: str) -> list[int]:
    """Word ANDs per comparison in each AND round, in order (the rounds before the final one
    that turns the bit into an additive share)."""
    levels = boolean_levels(width, test)
    if test != "ltz":
        return [1] * levels
    return [1] + [2] * max(0, levels - 1) + ([1] if levels else [])


def batch_bounds(total: int, batches: int) -> list[tuple[int, int]]:
    """`total` items cut into `batches` contiguous, nearly equal ranges."""
    cuts = [total * k // batches for k in range(batches + 1)]
    return list(itertools.pairwise(cuts))


def default_threshold(protocol: str, n_parties: int) -> int:
    """Shamir: the largest t with 2t < n. Additive: n − 1 (any coalition but everyone)."""
    return (n_parties - 1) // 2 if protocol == "shamir" else n_parties - 1


def check_parameters(protocol: str, n_parties: int, threshold: int) -> str | None:
    """Why (protocol, n, t) is not a valid suite, or None when it is."""
    if protocol not in PROTOCOLS:
        return f"unknown protocol {protocol!r} (choose one of {', '.join(PROTOCOLS)})"
    if protocol == "additive":
        if n_parties < 2:
            return f"additive sharing needs n ≥ 2 parties, got {n_parties}"
        if threshold != n_parties - 1:
            return f"additive sharing tolerates exactly n − 1 = {n_parties - 1}, not {threshold}"
        return None
    if n_parties < 3:
        return f"shamir needs n ≥ 3 parties for an honest majority, got {n_parties}"
    if threshold < 1 or 2 * threshold >= n_parties:
        return f"shamir needs 1 ≤ t < n/2; t = {threshold} with n = {n_parties}"
    return None


@dataclass(frozen=True, slots=True)
class Suite:
    """A protocol suite instance: protocol name, number of parties, threshold."""

    protocol: str
    n_parties: int
    threshold: int

    def __post_init__(self) -> None:
        problem = check_parameters(self.protocol, self.n_parties, self.threshold)
        if problem:
            raise ValueError(problem)

    @classmethod
    def of(cls, protocol: str, n_parties: int, threshold: int | None = None) -> Suite:
        t = default_threshold(protocol, n_parties) if threshold is None else threshold
        return cls(protocol, n_parties, t)

    @property
    def parties(self) -> range:
        return range(self.n_parties)

    # --- input sharing -------------------------------------------------------------------------
    def seeded_input_parties(self, owner: int) -> tuple[int, ...]:
        """Parties whose share of the owner's input is derived from their pair key with the owner.

        Additive: every other party (the owner's own share is the input minus their streams).
        Shamir: the t parties after the owner; they fix t points of the random polynomial.
        """
        others = [(owner + k) % self.n_parties for k in range(1, self.n_parties)]
        return tuple(others if self.protocol == "additive" else others[: self.threshold])

    def sent_input_parties(self, owner: int) -> tuple[int, ...]:
        """Parties the owner sends an explicit share to (Shamir: the n − 1 − t others)."""
        seeded = set(self.seeded_input_parties(owner))
        return tuple(p for p in self.parties if p != owner and p not in seeded)

    # --- reveal ----------------------------------------------------------------------------------
    def reveal_senders(self, receiver: int) -> tuple[int, ...]:
        """Parties that send their share to `receiver` when a value is revealed to it.

        Additive: all others. Shamir: the t parties after the receiver (t + 1 shares reconstruct).
        """
        others = [(receiver + k) % self.n_parties for k in range(1, self.n_parties)]
        return tuple(others if self.protocol == "additive" else others[: self.threshold])

    def reveal_targets(self, sender: int, receivers: tuple[int, ...]) -> tuple[int, ...]:
        """Receivers among `receivers` that `sender` sends its share to."""
        return tuple(r for r in receivers if sender in self.reveal_senders(r))

    def point(self, party: int) -> int:
        """The Shamir evaluation point of a party."""
        return party + 1

    # --- Shamir products: degree reduction by resharing (GRR) ------------------------------------
    def resharers(self, label: int) -> tuple[int, ...]:
        """The 2t + 1 parties that reshare a degree-2t product, rotated by `label` for balance."""
        return tuple(sorted((label + k) % self.n_parties for k in range(2 * self.threshold + 1)))

    def reshare_seeded(self, resharer: int) -> tuple[int, ...]:
        """Parties whose part of a resharing comes from their pair key with the resharer."""
        return tuple((resharer + k) % self.n_parties for k in range(1, self.threshold + 1))

    def reshare_sent(self, resharer: int) -> tuple[int, ...]:
        """Parties the resharer sends an explicit part to (n − 1 − t of them)."""
        seeded = set(self.reshare_seeded(resharer))
        return tuple(p for p in self.parties if p != resharer and p not in seeded)

"""What each protocol suite is: its domain, its parameters, and who sends what to whom.

The DSL's cost model and the protocols both read the communication pattern from here, so the
bytes that `Plan.cost()` predicts are the bytes the protocols send.

| suite      | domain        | parties | corruption tolerated (semi-honest) |
|------------|---------------|---------|-------------------------------------|
| `additive` | Z_2^64        | n ≥ 2   | any n − 1 colluding parties         |
| `shamir`   | F_p, p=2^61−1 | n ≥ 3   | t < n/2 colluding parties           |

Party i evaluates Shamir polynomials at the point i + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from mpc.field import F61, RING64, Domain

PROTOCOLS = ("shamir", "additive")


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
    def domain(self) -> Domain:
        return F61 if self.protocol == "shamir" else RING64

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

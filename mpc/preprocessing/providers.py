"""The providers whose material the parties make themselves, in the job's offline stage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mpc.preprocessing import honest_majority, ot_triples
from mpc.preprocessing.store import Store
from mpc.protocols.context import Context, Run
from mpc.suite import HONEST_MAJORITY, OT, Need, Suite


@dataclass(frozen=True, slots=True)
class MadeByParties:
    """A provider run by the parties: its protocol and its number of rounds."""

    generate: Callable[[Context, Sequence[Need]], Run[Store]]
    offline_rounds: Callable[[Suite, Sequence[Need]], int]


MADE_BY_PARTIES = {
    HONEST_MAJORITY: MadeByParties(honest_majority.generate, honest_majority.offline_rounds),
    OT: MadeByParties(ot_triples.generate, ot_triples.offline_rounds),
}

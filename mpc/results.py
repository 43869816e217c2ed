"""From what the parties end with to the job's outputs.

- Outputs revealed to parties: every receiver decoded the same value; `merge_outputs` checks
  that they agree (a disagreement means a party misbehaved or a bug: `VerificationError`).
- Outputs revealed to the driver: each party sent its share; `reconstruct_driver_outputs`
  adds them (additive) or interpolates them after checking that all n Shamir shares lie on one
  polynomial of degree t.
- `to_json`: int64 arrays → JSON numbers (scalars for shape ()).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mpc.dsl import Plan
from mpc.errors import VerificationError
from mpc.sharing import additive, shamir


def reconstruct_driver_outputs(
    plan: Plan, shares: Mapping[int, Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The outputs revealed to the driver, from every party's shares."""
    suite = plan.suite
    outputs: dict[str, np.ndarray] = {}
    for output in plan.outputs:
        if not output.driver:
            continue
        parts = []
        for party in suite.parties:
            share = shares.get(party, {}).get(output.name)
            if share is None:
                raise VerificationError(f"party {party} sent no share of output {output.name!r}")
            share = np.asarray(share)
            if share.dtype != np.uint64 or share.shape != output.shape:
                raise VerificationError(f"party {party}'s share of {output.name!r} is malformed")
            parts.append(share)
        if suite.protocol == "additive":
            value = additive.reconstruct(np.stack(parts))
        else:
            parties = list(suite.parties)
            if not shamir.is_consistent(parts, parties, suite.threshold):
                raise VerificationError(f"shares of output {output.name!r} are inconsistent")
            value = shamir.reconstruct(parts[: suite.threshold + 1], parties[: suite.threshold + 1])
        outputs[output.name] = suite.domain.decode(value)
    return outputs


def merge_outputs(
    plan: Plan, per_party: Mapping[int, Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Outputs revealed to parties, checked to agree across the receivers that reported them."""
    merged: dict[str, np.ndarray] = {}
    for output in plan.outputs:
        for party in output.to:
            value = per_party.get(party, {}).get(output.name)
            if value is None:
                continue
            value = np.asarray(value)
            if output.name in merged and not np.array_equal(merged[output.name], value):
                raise VerificationError(f"receivers disagree on output {output.name!r}")
            merged[output.name] = value
    return merged


def to_json(value: np.ndarray) -> Any:
    """An output as JSON-ready Python numbers."""
    array = np.asarray(value)
    return array.item() if array.shape == () else array.tolist()

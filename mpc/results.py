"""From what the parties end with to the job's outputs.

- Outputs revealed to parties: every receiver decoded the same value; `merge_outputs` checks
  that they agree (a disagreement means a party misbehaved or a bug: `VerificationError`).
- Outputs revealed to the driver: each party sent its share; `reconstruct_driver_outputs`
  adds them (additive) or interpolates them after checking that all n Shamir shares lie on one
  polynomial of degree t.
- `to_json`: int64 / float64 arrays → JSON numbers (scalars for shape ()).
Integer outputs decode to int64, fixed-point outputs to float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mpc.datasets import bits_to_hex
from mpc.dsl import Plan
from mpc.dsl.plan import Output
from mpc.errors import VerificationError
from mpc.field import Domain, domain_named
from mpc.sharing import additive, shamir


def decode(domain: Domain, output: Output, value: np.ndarray) -> np.ndarray:
    """Plain values of an output: int64 for integers, float64 for fixed point, hex strings for
    the bits of an imported circuit."""
    return decode_value(domain, output.kind, output.frac, value)


def decode_value(domain: Domain, kind: str, frac: int, value: np.ndarray) -> np.ndarray:
    if kind == "bits":
        return np.array(bits_to_hex(value), dtype=object)
    if kind == "fixed":
        return domain.decode_scaled(value, frac)
    return domain.decode(value)


def reconstruct_driver_outputs(
    plan: Plan, shares: Mapping[int, Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The outputs revealed to the driver, from every party's shares."""
    suite = plan.suite
    domain = domain_named(plan.domain)
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
            if share.dtype != domain.dtype or share.shape != output.shape:
                raise VerificationError(f"party {party}'s share of {output.name!r} is malformed")
            parts.append(share)
        if suite.protocol == "additive":
            value = additive.reconstruct(np.stack(parts), domain)
        else:
            parties = list(suite.parties)
            t = suite.threshold
            if not shamir.is_consistent(parts, parties, t, domain):
                raise VerificationError(f"shares of output {output.name!r} are inconsistent")
            value = shamir.reconstruct(parts[: t + 1], parties[: t + 1], domain)
        outputs[output.name] = decode(domain, output, value)
    return outputs


def merge_outputs(
    plan: Plan, per_party: Mapping[int, Mapping[str, np.ndarray]], *, elements: bool = False
) -> dict[str, np.ndarray]:
    """Outputs revealed to parties, checked to agree across the receivers that reported them.

    With `elements`, the parties reported domain elements, which are decoded here.
    """
    domain = domain_named(plan.domain)
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
    if elements:
        by_name = {o.name: o for o in plan.outputs}
        return {name: decode(domain, by_name[name], value) for name, value in merged.items()}
    return merged


def to_json(value: np.ndarray) -> Any:
    """An output as JSON-ready Python numbers."""
    array = np.asarray(value)
    return array.item() if array.shape == () else array.tolist()

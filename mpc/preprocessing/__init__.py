"""Preprocessing providers: the correlated randomness products and truncations consume.

The protocols ask a `Store` for the material of a node (`take`), never where it came from:
- `dealer`: a trusted dealer process deals it, seed-compressed (`mpc.preprocessing.dealer`);
- `honest-majority`: the parties make it themselves with Shamir sharings
  (`mpc.preprocessing.honest_majority`), n ≥ 3;
- `ot`: the two parties of an n = 2 job make it with Gilboa products over IKNP oblivious
  transfer (`mpc.preprocessing.ot_triples`), no third party at all.
Every batch is consume-once: taking it twice raises `PreprocessingError`.
"""

from mpc.preprocessing.store import Store, components

__all__ = ["Store", "components"]

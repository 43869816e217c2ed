"""Every benchmark workload, registered in one place (`registry()`).

What a workload is lives in `mpc.bench.spec`; how its inputs and answers are made in
`mpc.bench.inputs`. Adding a workload is a few lines here, for example:

    Workload(
        "mul", "benchmarks/circuits/mul.py", Sizes((10**4, 10**5), (10**4, 10**6)),
        (SHAMIR_3, Setting("additive", 2, preprocessing="dealer")), mul_prepare,
        operations=linear, operation="multiplications",
    )

Circuits used only by benchmarks live in `benchmarks/circuits/`. A workload that cannot run yet
is registered as `Pending` with the reason, and reported as not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mpc.bench.inputs import (
    AES_CIRCUIT,
    aes_prepare,
    compare_prepare,
    hex_check,
    inner_product_prepare,
    matmul_prepare,
    matvec_prepare,
    mul_prepare,
    secure_sum_prepare,
)
from mpc.bench.spec import (
    AnyWorkload,
    MicroWorkload,
    Pending,
    Setting,
    Sizes,
    Workload,
    close_check,
    linear,
)

ROOT = Path(__file__).resolve().parents[2]
BRISTOL_CIRCUIT = "circuits/bristol.py"  # the Bristol Fashion runner (garbled circuits)

SHAMIR_3 = Setting("shamir", 3)
ADDITIVE_2 = Setting("additive", 2)  # no provider named: what needs none (sums, comparisons)
ADDITIVE_3 = Setting("additive", 3)
ADDITIVE_2_OT = Setting("additive", 2, preprocessing="ot")  # dealer-free: Gilboa over IKNP
ADDITIVE_2_DEALER = Setting("additive", 2, preprocessing="dealer")
ADDITIVE_3_DEALER = Setting("additive", 3, preprocessing="dealer")
THREE_PARTIES = (ADDITIVE_3, SHAMIR_3)


def squared(size: int) -> int:
    return size * size


def cubed(size: int) -> int:
    return size**3


@dataclass(frozen=True)
class Registry:
    """The registered workloads, by name, in the order they run, and those still pending."""

    workloads: tuple[AnyWorkload, ...] = field(default_factory=tuple)
    pending: tuple[Pending, ...] = ()

    def names(self) -> list[str]:
        return [w.name for w in self.workloads]

    def get(self, name: str) -> AnyWorkload:
        for workload in self.workloads:
            if workload.name == name:
                return workload
        raise KeyError(f"no workload {name!r}; registered: {', '.join(self.names())}")

    def select(self, names: list[str] | None) -> tuple[AnyWorkload, ...]:
        return self.workloads if not names else tuple(self.get(n) for n in names)


def aes_workload(root: Path = ROOT) -> Workload | Pending:
    """Garbled AES-128 on blocks (key at party 0, plaintexts at party 1), once the Bristol
    Fashion runner exists; until then `Pending` with the reason."""
    if not (root / BRISTOL_CIRCUIT).is_file():
        return Pending(
            "garbled_aes128", f"pending: {BRISTOL_CIRCUIT} (the lead's) does not exist yet"
        )
    if not AES_CIRCUIT.is_file():
        return Pending("garbled_aes128", f"{AES_CIRCUIT} not found (../shared/peer-tests)")
    return Workload(
        "garbled_aes128",
        BRISTOL_CIRCUIT,
        Sizes(quick=(10**2, 10**3), full=(10**2, 10**3, 10**4)),
        (ADDITIVE_2,),
        aes_prepare,
        check=hex_check,
        unit="blocks",
        operations=linear,
        operation="AES blocks",
        description="AES-128 (Bristol Fashion aes_128.txt) garbled: key at party 0, blocks at 1",
    )


def registry(root: Path = ROOT) -> Registry:
    """Every workload of the benchmark suite (add new ones here)."""
    aes = aes_workload(root)
    workloads: list[AnyWorkload] = [
        Workload(
            "secure_sum",
            "circuits/secure_sum.py",
            Sizes(quick=(10**4, 10**5, 10**6), full=(10**3, 10**4, 10**5, 10**6, 10**7)),
            THREE_PARTIES,
            secure_sum_prepare,
            full_settings=(ADDITIVE_2, Setting("shamir", 5)),
            description="element-wise sum of one column per party and its total",
        ),
        Workload(
            "mul",
            "benchmarks/circuits/mul.py",
            Sizes(quick=(10**4, 10**5, 10**6), full=(10**4, 10**5, 10**6)),
            (SHAMIR_3, ADDITIVE_3_DEALER, ADDITIVE_2_DEALER, ADDITIVE_2_OT),
            mul_prepare,
            unit="elements",
            setting_sizes={  # OT triples: ~2.6 KB and 40 µs each, 8 GB of RSS per party at 10^6
                ADDITIVE_2_OT.name: Sizes(quick=(10**4, 10**5), full=(10**4, 10**5, 10**6))
            },
            operations=linear,
            operation="multiplications",
            peer_bits=20,
            description="x·y elementwise (20-bit x at party 0, y at party 1), products revealed",
        ),
        Workload(
            "matvec",
            "benchmarks/circuits/matvec.py",
            Sizes(quick=(100, 300, 1000), full=(100, 300, 1000)),
            (SHAMIR_3, ADDITIVE_2_DEALER, ADDITIVE_2_OT),
            matvec_prepare,
            unit="n (n×n matrix · n vector)",
            operations=squared,
            operation="multiply-adds",
            peer_bits=16,
            description="A @ v: A (n×n) at party 0, v (n) at party 1, 16-bit integers",
        ),
        Workload(
            "matmul",
            "benchmarks/circuits/matmul.py",
            Sizes(quick=(64, 128, 256), full=(64, 128, 256, 512)),
            (SHAMIR_3, ADDITIVE_2_DEALER, ADDITIVE_2_OT),
            matmul_prepare,
            setting_sizes={  # OT matrix triples: ~280 B per product, n³ (4.7 GB at 256)
                ADDITIVE_2_OT.name: Sizes(quick=(64,), full=(64, 128))
            },
            unit="n (n×n · n×n)",
            operations=cubed,
            operation="multiply-adds",
            peer_bits=16,
            description="A @ B: A at party 0, B at party 1 (n×n each), 16-bit integers",
        ),
        Workload(
            "compare",
            "circuits/millionaires.py",
            Sizes(quick=(10**3, 10**4, 10**5), full=(10**3, 10**4, 10**5, 10**6)),
            # additive-2: garbled, no preprocessing at all; -dealer: boolean shares, its triples
            (ADDITIVE_2, ADDITIVE_2_DEALER, SHAMIR_3),
            compare_prepare,
            operations=linear,
            operation="comparisons",
            peer_bits=31,
            description="[a_i > b_i] of two parties' 32-bit integers (garbled circuit; with a "
            "dealer: boolean shares and its word triples)",
        ),
        Workload(
            "inner_product",
            "circuits/inner_product.py",
            Sizes(quick=(10**3, 10**4, 10**5), full=(10**3, 10**4, 10**5, 10**6)),
            (SHAMIR_3, ADDITIVE_2_OT, ADDITIVE_2_DEALER),
            inner_product_prepare,
            check=close_check(2**-22),  # one probabilistic truncation: off by < 2^-24
            setting_sizes={  # one OT matrix triple of the vectors: ~2.6 KB per element
                ADDITIVE_2_OT.name: Sizes(quick=(10**3, 10**4), full=(10**3, 10**4, 10**5))
            },
            operations=linear,
            operation="multiply-adds",
            peer_bits=7,
            description="dot product of party 0's and party 1's fixed-point columns",
        ),
        MicroWorkload(
            "micro_gc",
            "benchmarks/micro_gc.py",
            Sizes(quick=(10_000,), full=(10_000, 100_000)),
            args=("--repeats", "1", "--ots", "65536", "--aes-blocks", "100"),
            size_arg="--instances",
            key=("bench", "role"),
            unit="comparators",
            sized_by=(("instances", "comparators"), ("ots", "OTs"), ("blocks", "AES blocks")),
            description="garbling/evaluating 32-bit comparators, IKNP OTs, base OTs, garbled AES",
        ),
        MicroWorkload(
            "micro_ot_triples",
            "benchmarks/micro_ot_triples.py",
            Sizes(quick=(10_000, 100_000), full=(10_000, 100_000, 300_000)),
            args=("--truncations", "10000", "--repeats", "1"),
            size_arg="--triples",
            key=("bench",),
            unit="triples",
            sized_by=(("count", "items"),),
            description="dealer-free 2-party triples (Gilboa over IKNP), both parties in a process",
        ),
    ]
    pending: tuple[Pending, ...] = ()
    if isinstance(aes, Workload):
        workloads.insert(6, aes)
    else:
        pending = (aes,)
    return Registry(tuple(workloads), pending)

"""Tests of mpc.dsl: tracing, compile errors, scheduling (rounds), cost, fingerprints, loading."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mpc import dsl
from mpc.dsl import CompileSpec, ShapeMismatchError, compile, load_circuit
from mpc.errors import CompileError, SecretBranchError
from mpc.suite import Suite

ROOT = Path(__file__).resolve().parent.parent
SECURE_SUM_PATH = ROOT / "circuits" / "secure_sum.py"
secure_sum = load_circuit(SECURE_SUM_PATH)
THIS_FILE = Path(__file__).name


def spec(
    protocol: str = "additive",
    n: int = 3,
    rows: int = 10,
    threshold: int | None = None,
    **kwargs: Any,
) -> CompileSpec:
    return CompileSpec(Suite.of(protocol, n, threshold), default_rows=rows, **kwargs)


def write_circuit(tmp_path: Path, source: str, name: str = "circ.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def assert_site(error: CompileError, file_name: str) -> None:
    """The error names the circuit's own line (`file:line`)."""
    assert error.site is not None
    assert error.site.startswith(f"{file_name}:")


def compile_error(circuit: dsl.Circuit, compile_spec: CompileSpec | None = None) -> CompileError:
    with pytest.raises(CompileError) as info:
        compile(circuit, compile_spec or spec())
    return info.value


# --- secure_sum: rounds and cost -----------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 5])
def test_compile_secure_sum_additive_is_one_round(n: int) -> None:
    plan = compile(secure_sum, spec("additive", n))
    assert plan.rounds == 1
    assert len(plan.layers) == 1
    (group,) = plan.layers[0].groups
    assert group.op == "reveal"
    assert len(group.nodes) == 2  # `sum` and `total` share the round
    assert {o.name for o in plan.outputs} == {"sum", "total"}


@pytest.mark.parametrize(("n", "t"), [(3, 1), (5, 2), (5, 1), (7, 3)])
def test_compile_secure_sum_shamir_is_two_rounds(n: int, t: int) -> None:
    plan = compile(secure_sum, spec("shamir", n, threshold=t))
    assert plan.rounds == 2
    assert [[g.op for g in layer.groups] for layer in plan.layers] == [["input"], ["reveal"]]
    assert len(plan.layers[0].groups[0].nodes) == n  # every party's input in one group


@pytest.mark.parametrize("n", [2, 3, 4, 6])
@pytest.mark.parametrize("rows", [0, 1, 17])
def test_cost_secure_sum_additive_matches_formula(n: int, rows: int) -> None:
    cost = compile(secure_sum, spec("additive", n, rows)).cost()
    # inputs are free (pair-key seeds); each receiver gets the n − 1 other shares of sum and total
    assert cost.bytes_sent == tuple([8 * (rows + 1) * (n - 1)] * n)
    assert cost.bytes_to_driver == (0,) * n
    assert cost.rounds == 1


@pytest.mark.parametrize(("n", "t"), [(3, 1), (4, 1), (5, 2), (6, 2), (7, 3), (7, 1)])
@pytest.mark.parametrize("rows", [0, 1, 17])
def test_cost_secure_sum_shamir_matches_formula(n: int, t: int, rows: int) -> None:
    cost = compile(secure_sum, spec("shamir", n, rows, threshold=t)).cost()
    # each owner sends n − 1 − t explicit input shares; each receiver gets t shares per output,
    # and every party is one of the t senders of exactly t receivers
    per_party = 8 * ((n - 1 - t) * rows + t * (rows + 1))
    assert cost.bytes_sent == (per_party,) * n
    assert cost.rounds == 2


@pytest.mark.parametrize("protocol", ["additive", "shamir"])
def test_cost_secure_sum_to_driver_only(protocol: str) -> None:
    n, rows = 5, 9
    plan = compile(secure_sum, spec(protocol, n, rows, receivers=("driver",)))
    cost = plan.cost()
    assert cost.bytes_to_driver == (8 * (rows + 1),) * n
    t = plan.suite.threshold
    input_bytes = 8 * (n - 1 - t) * rows if protocol == "shamir" else 0
    assert cost.bytes_sent == (input_bytes,) * n
    assert plan.rounds == (1 if protocol == "shamir" else 0)
    assert all(o.driver and o.to == () for o in plan.outputs)


def test_cost_secure_sum_to_one_party_and_driver() -> None:
    n, rows = 4, 3
    cost = compile(secure_sum, spec("additive", n, rows, receivers=(2, "driver"))).cost()
    assert cost.bytes_sent == (32, 32, 0, 32)
    assert cost.bytes_to_driver == (32,) * n
    cost = compile(secure_sum, spec("shamir", 5, rows, receivers=(2,))).cost()
    # t = 2: input 2·3 elements per owner; parties 3 and 4 send their shares to party 2
    assert cost.bytes_sent == (48, 48, 48, 48 + 32, 48 + 32)


def test_plan_summary_reports_the_plan() -> None:
    plan = compile(secure_sum, spec("shamir", 3, 4))
    summary = plan.summary()
    assert summary["fingerprint"] == plan.fingerprint
    assert summary["rounds"] == 2
    assert summary["bytes_sent"] == list(plan.cost().bytes_sent)
    assert [i["party"] for i in summary["inputs"]] == [0, 1, 2]
    assert all(i["rows"] == 4 for i in summary["inputs"])
    assert {o["name"]: o["shape"] for o in summary["outputs"]} == {"sum": [4], "total": []}


# --- round merging -------------------------------------------------------------------------------

MANY_REVEALS = """
from mpc import dsl

@dsl.circuit(params={"k": 3})
def many(job):
    xs = [dsl.input(p, "d", f"c{i}", bits=20) for p in job.parties for i in range(job.params["k"])]
    for i, x in enumerate(xs):
        dsl.reveal(x * 2 - xs[0], f"out{i}", to=[i % job.n_parties])
    dsl.reveal(dsl.sum(sum(xs)), "all")
"""


@pytest.mark.parametrize("protocol", ["additive", "shamir"])
def test_compile_independent_reveals_share_one_round(protocol: str, tmp_path: Path) -> None:
    many = load_circuit(write_circuit(tmp_path, MANY_REVEALS))
    expected_rounds = 2 if protocol == "shamir" else 1
    costs = []
    for k in (1, 4, 25):
        plan = compile(many, spec(protocol, 5, 6, params={"k": k}))
        assert plan.rounds == expected_rounds, k
        reveal_layer = plan.layers[-1]
        assert [g.op for g in reveal_layer.groups] == ["reveal"]
        assert len(reveal_layer.groups[0].nodes) == 5 * k + 1
        if protocol == "shamir":
            assert len(plan.layers[0].groups[0].nodes) == 5 * k
        costs.append(sum(plan.cost().bytes_sent))
    assert costs[0] < costs[1] < costs[2]  # more data, not more rounds


# --- fingerprints --------------------------------------------------------------------------------


def test_fingerprint_is_stable_across_compiles_and_reloads() -> None:
    first = compile(secure_sum, spec("shamir", 3, 10))
    second = compile(secure_sum, spec("shamir", 3, 10))
    reloaded = compile(load_circuit(SECURE_SUM_PATH), spec("shamir", 3, 10))
    assert first is not second
    assert first.fingerprint == second.fingerprint == reloaded.fingerprint
    assert len(first.fingerprint) == 64
    assert (
        first.fingerprint
        == hashlib.sha256(__import__("msgpack").packb(first.wire(), use_bin_type=True)).hexdigest()
    )


def test_fingerprint_ignores_source_locations(tmp_path: Path) -> None:
    source = SECURE_SUM_PATH.read_text()
    moved = write_circuit(tmp_path, "# moved\n\n\n" + source.replace("\n\n", "\n\n\n"), "s.py")
    a = compile(secure_sum, spec("additive", 3))
    b = compile(load_circuit(moved), spec("additive", 3))
    assert [n.site for n in a.nodes] != [n.site for n in b.nodes]  # the lines really moved
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"params": {"bits": 39}},
        {"rows": 11},
        {"protocol": "shamir"},
        {"n": 4},
        {"receivers": (0, 1)},
        {"receivers": (0, 1, 2, "driver")},
        {"receivers": ("driver",)},
    ],
    ids=str,
)
def test_fingerprint_changes_with_what_the_parties_compute(change: dict[str, Any]) -> None:
    base = {"protocol": "additive", "n": 3, "rows": 10}
    plan = compile(secure_sum, spec(**base))
    changed = compile(secure_sum, spec(**{**base, **change}))
    assert plan.fingerprint != changed.fingerprint


def test_fingerprint_changes_with_threshold_and_row_table() -> None:
    a = compile(secure_sum, spec("shamir", 5, threshold=1))
    b = compile(secure_sum, spec("shamir", 5, threshold=2))
    assert a.fingerprint != b.fingerprint
    rows = {(p, "values"): 10 for p in range(3)}
    c = compile(secure_sum, CompileSpec(Suite.of("additive", 3), rows=rows))
    assert c.fingerprint == compile(secure_sum, spec("additive", 3, 10)).fingerprint
    d = compile(secure_sum, CompileSpec(Suite.of("additive", 3), rows={**rows, (1, "values"): 10}))
    assert d.fingerprint == c.fingerprint


def test_fingerprint_includes_unused_params_and_the_circuit_name(tmp_path: Path) -> None:
    path = write_circuit(
        tmp_path,
        """
        from mpc import dsl

        @dsl.circuit(params={"note": "a"})
        def tagged(job):
            dsl.reveal(dsl.input(0, "d", "v"), "v")
        """,
    )
    circuit = load_circuit(path)
    a = compile(circuit, spec(params={"note": "a"}))
    b = compile(circuit, spec(params={"note": "b"}))
    assert a.nodes == b.nodes
    assert a.fingerprint != b.fingerprint
    renamed = dsl.Circuit(circuit.fn, "other", circuit.params)
    assert compile(renamed, spec(params={"note": "a"})).fingerprint != a.fingerprint


# --- secrets have no plain value -----------------------------------------------------------------


def _branch(x: dsl.Secret) -> None:
    if x:
        pass


def _while(x: dsl.Secret) -> None:
    while x:
        break


def _index(x: dsl.Secret) -> None:
    _ = [1, 2, 3][x]  # type: ignore[index]


def _iterate(x: dsl.Secret) -> None:
    for _ in x:
        pass


@pytest.mark.parametrize(
    ("use", "what"),
    [
        (_branch, "a condition"),
        (_while, "a condition"),
        (lambda x: x and 1, "a condition"),
        (lambda x: not x, "a condition"),
        (int, "an int"),
        (float, "a float"),
        (_index, "an index"),
        (lambda x: range(x), "an index"),
        (_iterate, "an iterable"),
        (list, "an iterable"),
    ],
    ids=["if", "while", "and", "not", "int", "float", "index", "range", "for", "list"],
)
def test_secret_cannot_be_used_as_a_plain_value(use: Any, what: str) -> None:
    @dsl.circuit
    def branchy(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        use(x)
        dsl.reveal(x, "x")

    error = compile_error(branchy)
    assert isinstance(error, SecretBranchError)
    assert isinstance(error, TypeError)
    message = str(error)
    assert what in message
    assert "runs once for all data" in message  # why
    assert "reveal()" in message  # what to do instead
    assert_site(error, THIS_FILE)


@pytest.mark.parametrize(
    "compare",
    [lambda x: x == 0, lambda x: x != 0, lambda x: x < 0, lambda x: x >= 5],
    ids=["eq", "ne", "lt", "ge"],
)
def test_secret_comparison_is_not_a_plain_bool(compare: Any) -> None:
    """A comparison is a secret 0/1 value (a garbled circuit at run time), never a branch."""

    @dsl.circuit
    def branchy(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        if compare(x):
            dsl.reveal(x, "taken")
        dsl.reveal(x, "x")

    error = compile_error(branchy)
    assert isinstance(error, SecretBranchError)
    assert "dsl.where" in str(error)
    assert_site(error, THIS_FILE)


@pytest.mark.parametrize("compare", [lambda x: x < 0, lambda x: x >= 5], ids=["lt", "ge"])
def test_secret_comparison_compiles_to_a_compare_node(compare: Any) -> None:
    @dsl.circuit
    def ordered(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        dsl.reveal(compare(x), "bit")

    plan = compile(ordered, spec())
    (node,) = [node for node in plan.nodes if node.op == "compare"]
    assert node.attr("test") == "ltz"
    assert plan.nodes[plan.outputs[0].node].vtype.bound == 1


def test_secret_has_no_hash_and_a_length() -> None:
    seen = {}

    @dsl.circuit
    def probe(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        seen["len"] = len(x)
        seen["shape"] = dsl.sum(x).shape
        with pytest.raises(TypeError):
            hash(x)
        with pytest.raises(TypeError, match="no length"):
            len(dsl.sum(x))
        dsl.reveal(x, "x")

    compile(probe, spec(rows=7))
    assert seen == {"len": 7, "shape": ()}


# --- shapes, bounds, products --------------------------------------------------------------------


def test_shape_mismatch_names_both_inputs() -> None:
    rows = {(0, "values"): 10, (1, "values"): 12, (2, "values"): 10}
    with pytest.raises(ShapeMismatchError) as info:
        compile(secure_sum, CompileSpec(Suite.of("additive", 3), rows=rows))
    error = info.value
    message = str(error)
    assert "values.value of party 0 (10 rows)" in message
    assert "values.value of party 1 (12 rows)" in message
    assert {(s.party, s.rows) for s in error.sources} == {(0, 10), (1, 12)}
    assert_site(error, "secure_sum.py")


def test_shape_mismatch_of_a_derived_value_names_its_input() -> None:
    @dsl.circuit
    def mixed(job: dsl.Job) -> None:
        a = dsl.input(0, "left", "a")
        b = dsl.input(1, "right", "b")
        dsl.reveal((a * 3 - 1) + b, "x")

    rows = {(0, "left"): 4, (1, "right"): 5}
    with pytest.raises(ShapeMismatchError, match=r"left\.a of party 0 \(4 rows\)") as info:
        compile(mixed, CompileSpec(Suite.of("additive", 2), rows=rows))
    assert "right.b of party 1 (5 rows)" in str(info.value)


@pytest.mark.parametrize(("bits", "domain"), [(40, "F127"), (30, "F61")])
def test_compile_picks_the_smallest_field_that_holds_the_sum(bits: int, domain: str) -> None:
    plan = compile(secure_sum, spec("shamir", 3, 10**6, params={"bits": bits}))
    assert plan.domain == domain  # 3·10^6·2^40 > 2^60: the 61-bit field would wrap
    assert plan.inputs[0].bits == bits
    # the ring's range is larger: the additive suite stays in Z_2^64 at 40 bits
    assert compile(secure_sum, spec("additive", 3, 10**6, params={"bits": bits})).domain == "Z64"


def test_compile_refuses_values_beyond_every_domain() -> None:
    @dsl.circuit
    def scaled(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v", bits=62)
        dsl.reveal(x * x * x, "x")

    error = compile_error(scaled, spec("shamir", 3, 1))
    assert "beyond the exact range of every domain" in str(error)
    assert_site(error, THIS_FILE)


def test_compile_picks_the_field_for_public_products() -> None:
    @dsl.circuit
    def scaled(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v", bits=40) * np.array([2**22]), "x")

    assert compile(scaled, spec("shamir", 3, 1)).domain == "F127"
    assert compile(scaled, spec("additive", 3, 1)).domain == "Z64"


def test_secret_times_secret_needs_a_provider_with_the_additive_suite() -> None:
    @dsl.circuit
    def product(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v") * dsl.input(1, "d", "v"), "p")

    error = compile_error(product)
    assert "need preprocessing" in str(error)
    assert "'dealer'" in str(error)
    assert "'honest-majority'" in str(error)
    plan = compile(product, CompileSpec(Suite.of("shamir", 3), default_rows=1))
    assert [n.op for n in plan.nodes] == ["input", "input", "mul", "reveal"]
    assert plan.preprocessing is None  # shamir multiplies by resharing: no material


def test_public_constants_are_folded_into_one_const() -> None:
    @dsl.circuit
    def folded(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        two = dsl.constant(np.array([2, 2, 2]))
        dsl.reveal(x + (two + np.array([3, 3, 3])), "x")

    plan = compile(folded, spec(rows=3))
    consts = [n for n in plan.nodes if n.op == "const"]
    assert len(consts) == 1
    assert consts[0].attr("value").array().tolist() == [5, 5, 5]
    assert [n.op for n in plan.nodes] == ["input", "const", "add", "reveal"]


def test_public_scalar_constants_are_folded_into_one_const() -> None:
    @dsl.circuit
    def folded(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        dsl.reveal(x + (dsl.constant(2) + 3) * 4 - dsl.sum(dsl.constant(np.array([1, 2]))), "x")

    plan = compile(folded, spec(rows=3))
    consts = [n for n in plan.nodes if n.op == "const"]
    assert [c.attr("value").array().tolist() for c in consts] == [20, 3]
    assert all(not c.vtype.secret for c in consts)


def test_public_constant_overflow_is_a_compile_error() -> None:
    @dsl.circuit
    def big(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v") + dsl.constant(np.array([2**62])) * 4, "x")

    assert "overflows int64" in str(compile_error(big, spec(rows=1)))


@pytest.mark.parametrize("value", ["3", None, {"a": 1}], ids=repr)
def test_non_numeric_constants_are_a_compile_error(value: Any) -> None:
    @dsl.circuit
    def odd(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v") + value, "x")

    assert "public constants are numbers" in str(compile_error(odd, spec(rows=1)))


@pytest.mark.parametrize("value", [1.5, np.array([0.5])], ids=repr)
def test_float_constants_make_fixed_point_values(value: Any) -> None:
    @dsl.circuit
    def floaty(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v") + value, "x")

    plan = compile(floaty, spec(rows=1))
    (output,) = plan.outputs
    assert (output.kind, output.frac) == ("fixed", 16)


def test_sum_axis_out_of_range_is_a_compile_error() -> None:
    @dsl.circuit
    def axis(job: dsl.Job) -> None:
        dsl.reveal(dsl.sum(dsl.input(0, "d", "v"), axis=1), "x")

    assert "axis 1 out of range" in str(compile_error(axis))


def test_unused_values_are_pruned() -> None:
    @dsl.circuit
    def partial(job: dsl.Job) -> None:
        used = dsl.input(0, "d", "v")
        unused = dsl.input(1, "d", "v")
        _ = unused * 3
        dsl.reveal(used, "x")

    plan = compile(partial, spec("shamir", 3))
    assert [i.party for i in plan.inputs] == [0]
    assert [n.op for n in plan.nodes] == ["input", "reveal"]
    assert [n.id for n in plan.nodes] == [0, 1]


# --- parameters, outputs, receivers --------------------------------------------------------------


def test_unknown_circuit_parameter_is_a_compile_error() -> None:
    error = compile_error(secure_sum, spec(params={"bitz": 3}))
    assert "no parameter 'bitz'" in str(error)
    assert "parameters: bits" in str(error)


@pytest.mark.parametrize(("given", "bits"), [("32", 32), (" 33 ", 33), (31, 31)])
def test_circuit_parameter_strings_are_coerced(given: Any, bits: int) -> None:
    plan = compile(secure_sum, spec(params={"bits": given}))
    assert dict(plan.params) == {"bits": bits}
    assert all(i.bits == bits for i in plan.inputs)


@pytest.mark.parametrize("given", ["x", "3.5", 3.5, True, None, [32]], ids=repr)
def test_circuit_parameter_of_the_wrong_type_is_a_compile_error(given: Any) -> None:
    error = compile_error(secure_sum, spec(params={"bits": given}))
    assert "parameter 'bits': expected int" in str(error)
    assert repr(given) in str(error)


def test_circuit_parameter_coercion_for_other_types() -> None:
    circuit = dsl.circuit(params={"f": 1.0, "b": False, "s": "x"})(lambda job: None)
    assert dsl.resolve_params(circuit, {"f": "2.5", "b": "yes", "s": "y"}) == {
        "f": 2.5,
        "b": True,
        "s": "y",
    }
    assert dsl.resolve_params(circuit, {"f": 3, "b": "0"}) == {"f": 3.0, "b": False, "s": "x"}
    with pytest.raises(CompileError, match="parameter 'b': expected bool"):
        dsl.resolve_params(circuit, {"b": "maybe"})
    with pytest.raises(CompileError, match="default must be"):
        dsl.circuit(params={"bad": [1]})(lambda job: None)


def test_duplicate_output_name_is_a_compile_error() -> None:
    @dsl.circuit
    def twice(job: dsl.Job) -> None:
        x = dsl.input(0, "d", "v")
        dsl.reveal(x, "out")
        dsl.reveal(x * 2, "out")

    error = compile_error(twice)
    assert "output 'out' is revealed twice" in str(error)
    assert_site(error, THIS_FILE)


@pytest.mark.parametrize("name", ["", "1x", "a-b", "with space", 7], ids=repr)
def test_bad_output_name_is_a_compile_error(name: Any) -> None:
    @dsl.circuit
    def named(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v"), name)

    assert "output name must be an identifier" in str(compile_error(named))


@pytest.mark.parametrize("receivers", [(3,), (-1,), ("drivr",), (0, "party1")], ids=str)
def test_bad_job_receivers_are_a_compile_error(receivers: tuple[Any, ...]) -> None:
    error = compile_error(secure_sum, spec(receivers=receivers))
    assert "neither a party id nor 'driver'" in str(error)
    assert repr(receivers[-1]) in str(error)


@pytest.mark.parametrize("to", [[3], [0, 5], ["drivr"], [True], [1.0]], ids=str)
def test_bad_reveal_receivers_are_a_compile_error(to: list[Any]) -> None:
    @dsl.circuit
    def targeted(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v"), "x", to=to)

    error = compile_error(targeted)
    assert "receivers are party ids 0..2 or 'driver'" in str(error)
    assert repr(to[-1]) in str(error)


def test_reveal_to_nobody_is_a_compile_error() -> None:
    @dsl.circuit
    def nobody(job: dsl.Job) -> None:
        dsl.reveal(dsl.input(0, "d", "v"), "x", to=[])

    assert "output 'x' has no receiver" in str(compile_error(nobody))


def test_circuit_that_reveals_nothing_is_a_compile_error() -> None:
    @dsl.circuit
    def silent(job: dsl.Job) -> None:
        dsl.input(0, "d", "v")

    assert "silent reveals nothing" in str(compile_error(silent))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: dsl.input(3, "d", "v"), r"party must be one of \[0, 1, 2\], got 3"),
        (lambda: dsl.input(True, "d", "v"), "party must be one of"),
        (lambda: dsl.input(0, "", "v"), "dataset must be an identifier"),
        (lambda: dsl.input(0, "d", ""), "columns must be non-empty strings"),
        (lambda: dsl.input(0, "my-data", "v"), "dataset must be an identifier"),
        (lambda: dsl.input(0, "d", "v", bits=0), "bits must be an int in 1..62, got 0"),
        (lambda: dsl.input(0, "d", "v", bits=63), "bits must be an int in 1..62, got 63"),
        (lambda: dsl.input(0, "d", "v", bits="40"), "bits must be an int"),
    ],
)
def test_bad_input_arguments_are_a_compile_error(call: Any, match: str) -> None:
    @dsl.circuit
    def bad(job: dsl.Job) -> None:
        dsl.reveal(call(), "x")

    with pytest.raises(CompileError, match=match) as info:
        compile(bad, spec())
    assert_site(info.value, THIS_FILE)


def test_missing_row_count_is_a_compile_error() -> None:
    compile_spec = CompileSpec(Suite.of("additive", 3), rows={(0, "values"): 3})
    assert "no row count for dataset 'values' of party 1" in str(
        compile_error(secure_sum, compile_spec)
    )


def test_dsl_functions_outside_compile_are_an_error() -> None:
    with pytest.raises(CompileError, match="only while a circuit is compiled"):
        dsl.input(0, "d", "v")
    with pytest.raises(CompileError, match="only while a circuit is compiled"):
        dsl.constant(3)


def test_other_exceptions_in_a_circuit_become_compile_errors() -> None:
    @dsl.circuit(name="crashy")
    def crashy(job: dsl.Job) -> None:
        _ = job.params["missing"]

    error = compile_error(crashy)
    assert "circuit crashy raised KeyError" in str(error)
    assert isinstance(error.__cause__, KeyError)


def test_job_exposes_the_suite_and_params_to_the_circuit() -> None:
    seen: dict[str, Any] = {}

    @dsl.circuit(params={"k": 2})
    def introspect(job: dsl.Job) -> None:
        seen.update(n=job.n_parties, protocol=job.protocol, t=job.threshold, k=job.params["k"])
        seen["parties"] = list(job.parties)
        dsl.reveal(dsl.input(0, "d", "v"), "x")

    compile(introspect, spec("shamir", 5, params={"k": "7"}))
    assert seen == {"n": 5, "protocol": "shamir", "t": 2, "k": 7, "parties": [0, 1, 2, 3, 4]}


# --- load_circuit --------------------------------------------------------------------------------


def test_load_circuit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="does not exist") as info:
        load_circuit(tmp_path / "nope.py")
    assert "nope.py" in str(info.value)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("x = 1\n", 0),
        (
            "from mpc import dsl\n@dsl.circuit\ndef a(job): pass\n@dsl.circuit\ndef b(job): pass\n",
            2,
        ),
    ],
    ids=["zero", "two"],
)
def test_load_circuit_needs_exactly_one_circuit(tmp_path: Path, source: str, found: int) -> None:
    path = write_circuit(tmp_path, source)
    with pytest.raises(CompileError, match=f"exactly one @dsl.circuit, found {found}") as info:
        load_circuit(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("import not_a_module_anywhere\n", "ModuleNotFoundError: No module named"),
        ("def broken(:\n", "SyntaxError"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ],
    ids=["import", "syntax", "raises"],
)
def test_load_circuit_import_errors(tmp_path: Path, source: str, match: str) -> None:
    path = write_circuit(tmp_path, source)
    with pytest.raises(CompileError, match=match) as info:
        load_circuit(path)
    assert f"cannot import circuit file {path}" in str(info.value)


def test_load_circuit_keeps_mpc_errors(tmp_path: Path) -> None:
    path = write_circuit(
        tmp_path, "from mpc import dsl\n@dsl.circuit(params={'p': []})\ndef c(job): pass\n"
    )
    with pytest.raises(CompileError, match="default must be int, float, str or bool"):
        load_circuit(path)


def test_load_circuit_returns_the_circuit(tmp_path: Path) -> None:
    circuit = load_circuit(SECURE_SUM_PATH)
    assert circuit.name == "secure_sum"
    assert dict(circuit.params) == {"bits": 40}
    documented = write_circuit(
        tmp_path, 'from mpc import dsl\n@dsl.circuit\ndef c(job):\n    """  Doc.  """\n'
    )
    assert load_circuit(documented).doc == "Doc."

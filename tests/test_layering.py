"""The layer table of ARCHITECTURE.md, enforced on the imports of every module (parsed with `ast`).

A module may import the standard library (minus what its layer never imports), the third-party
packages of its layer, and the `mpc` modules of the layers below it (see LAYERS). Imports are
collected anywhere in a module (also inside functions and `if TYPE_CHECKING:` blocks). A new
module under mpc/ must be added to LAYERS before it can be imported anywhere.
"""

from __future__ import annotations

import ast
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MPC_DIR = ROOT / "mpc"
CIRCUITS_DIR = ROOT / "circuits"
TABLE_HINT = "add it to LAYERS in tests/test_layering.py"


@dataclass(frozen=True)
class Layer:
    """Modules (exact names, or `pkg.*` for a package and everything in it) and their imports."""

    name: str
    modules: tuple[str, ...]
    third_party: frozenset[str]
    mpc: tuple[str, ...]  # patterns of the mpc modules they may import
    never: frozenset[str] = frozenset()  # top-level modules (stdlib or not) they never import


NUMPY_CRYPTO = frozenset({"numpy", "cryptography"})
COMPILED = frozenset({"numba"})  # the fields' compiled kernels (mpc.field.ring_matmul), only there
BASE = {  # layer 0: which other base modules each may import
    "mpc.errors": (),
    "mpc.rng": ("mpc.errors",),
    "mpc.field.*": ("mpc.errors", "mpc.rng", "mpc.field.*"),
    "mpc.suite": ("mpc.errors",),
    "mpc.config": ("mpc.errors", "mpc.suite"),
    "mpc.keys": ("mpc.errors",),
    "mpc.datasets": ("mpc.errors",),
}
L0 = tuple(BASE)
L1 = ("mpc.sharing.*", "mpc.protocols.*", "mpc.ot.*", "mpc.gc.*", "mpc.preprocessing.*", "mpc.dp.*")
L2 = ("mpc.dsl.*",)
L3 = ("mpc.engine", "mpc.operations", "mpc.wire", "mpc.results", "mpc.jobs")
L4 = ("mpc.net.*",)
L5 = (
    "mpc.node",
    "mpc.dealer",
    "mpc.runner",
    "mpc.client",
    "mpc.local",
    "mpc.testing",
    "mpc.progress",
    "mpc.usage",
    "mpc.memory",
)
L5_BENCH = ("mpc.bench.*",)  # the benchmark harness (`mpc bench`), a development tool
L6 = ("mpc.cli", "mpc.__main__", "mpc")  # `mpc` is the public hub, mpc/__init__.py
RUNTIME = frozenset({"numpy", "msgpack", "trio", "cryptography"})
USER_CODE = frozenset({"circuits", "parties"})
BENCH_EXTRA = frozenset({"matplotlib", "rich"})  # the optional `bench` extra

LAYERS: tuple[Layer, ...] = (
    *(
        Layer(
            f"0 base ({m})",
            (m,),
            NUMPY_CRYPTO | (COMPILED if m == "mpc.field.*" else set()),
            allowed,
        )
        for m, allowed in BASE.items()
    ),
    Layer(
        "1 core (sans-IO)",
        L1,
        NUMPY_CRYPTO,
        L0 + L1,
        frozenset({"trio", "msgpack", "socket", "ssl", "time", "asyncio", "threading"}),
    ),
    Layer("2 dsl", L2, frozenset({"numpy", "msgpack"}), L0 + L2, frozenset({"trio"})),
    Layer(
        "3 engine",
        L3,
        frozenset({"numpy", "msgpack"}),
        L0 + L1 + L2 + L3,
        frozenset({"trio", "socket", "ssl"}),
    ),
    Layer("4 net", L4, frozenset({"trio", "msgpack"}), (*L0, "mpc.wire", *L4)),
    Layer("5 node", L5, RUNTIME, ("mpc.*",), USER_CODE),
    Layer("5 bench", L5_BENCH, RUNTIME | BENCH_EXTRA, ("mpc.*",), USER_CODE),
    Layer("6 entry", L6, RUNTIME, ("mpc.*",), USER_CODE),
)
CIRCUIT_MPC = ("mpc", "mpc.dsl")
CIRCUIT_NEVER = frozenset({"trio", "socket", "ssl", "subprocess", "threading", "asyncio"})


def matches(name: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return name == base or name.startswith(base + ".")
    return name == pattern


def layer_of(module: str) -> Layer | None:
    found = [layer for layer in LAYERS if any(matches(module, p) for p in layer.modules)]
    return found[0] if found else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def mpc_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(MPC_DIR.rglob("*.py"))}


KNOWN = set(mpc_modules())


def is_package(module: str, known: set[str]) -> bool:
    return any(k.startswith(module + ".") for k in known)


@dataclass(frozen=True)
class Import:
    module: str  # the module imported (for `from pkg import sub`, pkg.sub when sub is a module)
    names: tuple[str, ...]  # names taken from it (`from m import a, b`)
    line: int


def imports_of(module: str, source: str, known: set[str]) -> list[Import]:
    tree = ast.parse(source)
    package = module if is_package(module, known) or module == "mpc" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known or is_package(sub, known):
                    found.append(Import(sub, (), node.lineno))
                else:
                    found.append(Import(base, (alias.name,), node.lineno))
    return found


def numpy_random_uses(source: str) -> list[int]:
    """Lines where numpy.random is reached through an alias of numpy (np.random.…)."""
    tree = ast.parse(source)
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    aliases.add(alias.asname or "numpy")
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "random"
        and isinstance(node.value, ast.Name)
        and node.value.id in aliases
    ]


def violations(module: str, source: str, known: set[str] = KNOWN) -> list[str]:
    """Every import of `module` (given its source) that the layer table does not allow."""
    layer = layer_of(module)
    if layer is None:
        return [f"{module} is not in the layer table: {TABLE_HINT}"]
    problems = []
    for imp in imports_of(module, source, known):
        top = imp.module.split(".")[0]
        where = f"{module}:{imp.line} imports {imp.module}"
        if (
            top == "random"
            or imp.module.startswith("numpy.random")
            or (imp.module == "numpy" and "random" in imp.names)
        ):
            problems.append(f"{where}: secrets come from mpc.rng.Csprng, never random/numpy.random")
        elif top in layer.never:
            problems.append(f"{where}: layer {layer.name} never imports {top}")
        elif top == "mpc":
            if imp.module != "mpc" and not (imp.module in known or is_package(imp.module, known)):
                problems.append(f"{where}: no such mpc module")
            elif not any(matches(imp.module, p) for p in layer.mpc):
                target = layer_of(imp.module)
                target_name = target.name if target else "no layer"
                allowed = ", ".join(layer.mpc) or "no other mpc module"
                problems.append(
                    f"{where} (layer {target_name}): layer {layer.name} may import only {allowed}"
                )
        elif top == "__future__" or top in sys.stdlib_module_names:
            continue
        elif top not in layer.third_party:
            problems.append(
                f"{where}: layer {layer.name} may use only {', '.join(sorted(layer.third_party))}"
            )
    problems += [
        f"{module}:{line} uses numpy.random: secrets come from mpc.rng.Csprng"
        for line in numpy_random_uses(source)
    ]
    return problems


def circuit_violations(name: str, source: str, known: set[str] = KNOWN) -> list[str]:
    problems = []
    for imp in imports_of(name, source, known):
        top = imp.module.split(".")[0]
        where = f"{name}:{imp.line} imports {imp.module}"
        private = [n for n in (*imp.module.split("."), *imp.names) if n.startswith("_")]
        if private and top != "__future__":
            problems.append(f"{where}: circuits use public names only, not {private[0]}")
        elif top == "mpc":
            if imp.module not in CIRCUIT_MPC:
                problems.append(f"{where}: circuits import only the public mpc / mpc.dsl")
        elif top in CIRCUIT_NEVER:
            problems.append(f"{where}: circuits never import {top}")
        elif top == "__future__" or top in sys.stdlib_module_names:
            continue
        elif top != "numpy":
            problems.append(f"{where}: circuits may use only numpy besides mpc.dsl")
    return problems + [
        f"{name}:{line} uses numpy.random: circuits are deterministic"
        for line in numpy_random_uses(source)
    ]


# --- the real code -------------------------------------------------------------------------------


@pytest.mark.parametrize("module", sorted(KNOWN))
def test_layering_mpc_module_is_in_the_table(module: str) -> None:
    assert layer_of(module) is not None, f"{module} is not in the layer table: {TABLE_HINT}"


@pytest.mark.parametrize("module", sorted(KNOWN))
def test_layering_mpc_module_imports_follow_the_table(module: str) -> None:
    source = mpc_modules()[module].read_text()
    assert violations(module, source) == []


@pytest.mark.parametrize(
    "path", sorted(CIRCUITS_DIR.glob("*.py")), ids=lambda p: p.name if isinstance(p, Path) else p
)
def test_layering_circuit_imports_only_the_public_dsl(path: Path) -> None:
    assert circuit_violations(f"circuits.{path.stem}", path.read_text()) == []


def test_layering_table_covers_the_known_layers() -> None:
    assert {"mpc.engine", "mpc.wire", "mpc.rng", "mpc.dsl.trace", "mpc.sharing.shamir"} <= KNOWN
    assert len(KNOWN) >= 30  # the walk really found the package


@pytest.mark.parametrize("package", ["mpc", "mpc.dsl"])
def test_layering_public_all_names_exist(package: str) -> None:
    module = importlib.import_module(package)
    names = module.__all__
    assert len(names) == len(set(names)), "duplicate names in __all__"
    missing = [name for name in names if not hasattr(module, name)]
    assert missing == []


# --- the checker catches what it must ------------------------------------------------------------


def engine_source() -> str:
    return (MPC_DIR / "engine.py").read_text()


def test_layering_catches_trio_in_the_engine() -> None:
    assert violations("mpc.engine", engine_source()) == []
    problems = violations("mpc.engine", engine_source() + "\nimport trio\n")
    assert len(problems) == 1
    assert "imports trio" in problems[0]
    assert "never imports trio" in problems[0]


def test_layering_catches_an_import_inside_a_function() -> None:
    source = engine_source() + "\n\ndef later():\n    import socket\n    return socket\n"
    assert any("never imports socket" in p for p in violations("mpc.engine", source))


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        ("mpc.engine", "from mpc.net import mesh", "may import only"),
        ("mpc.engine", "import mpc.node", "may import only"),
        ("mpc.dsl.trace", "from mpc.protocols.context import Context", "may import only"),
        ("mpc.dsl.trace", "from mpc import engine", "may import only"),
        ("mpc.dsl.plan", "from ..engine import Engine", "imports mpc.engine"),
        ("mpc.dsl.plan", "import trio", "never imports trio"),
        ("mpc.net.channel", "from mpc.engine import Engine", "may import only"),
        ("mpc.net.channel", "from mpc.dsl import Plan", "may import only"),
        ("mpc.net.channel", "from mpc.sharing import shamir", "may import only"),
        ("mpc.sharing.shamir", "import msgpack", "never imports msgpack"),
        ("mpc.sharing.shamir", "import time", "never imports time"),
        ("mpc.protocols.reveal", "from mpc.wire import Frame", "may import only"),
        ("mpc.protocols.reveal", "import pandas", "may use only cryptography, numpy"),
        ("mpc.field", "from mpc.suite import Suite", "may import only mpc.errors, mpc.rng"),
        ("mpc.rng", "from mpc import field", "may import only mpc.errors"),
        ("mpc.config", "from mpc.rng import Csprng", "may import only mpc.errors"),
        ("mpc.errors", "import mpc", "may import only no other mpc module"),
        ("mpc.rng", "import msgpack", "may use only"),
        ("mpc.node", "from circuits import secure_sum", "never imports circuits"),
        ("mpc.testing", "import parties.synthetic", "never imports parties"),
        ("mpc.engine", "from mpc.nonexistent import thing", "no such mpc module"),
        ("mpc.rng", "import random", "never random"),
        ("mpc.rng", "from random import SystemRandom", "never random"),
        ("mpc.rng", "from numpy.random import default_rng", "never random"),
        ("mpc.rng", "import numpy.random", "never random"),
        ("mpc.rng", "from numpy import random", "never random"),
        ("mpc.rng", "import numpy as xp\nx = xp.random.default_rng()", "uses numpy.random"),
        ("mpc.field.mersenne61", "y = np.random.randint(5)", "uses numpy.random"),
    ],
)
def test_layering_catches_a_forbidden_import(module: str, line: str, expected: str) -> None:
    source = mpc_modules()[module].read_text()
    assert violations(module, source) == []
    problems = violations(module, source + "\n" + line + "\n")
    assert problems, line
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("mpc.engine", "from mpc.dsl import Plan"),
        ("mpc.engine", "from mpc.protocols import reveal"),
        ("mpc.results", "from mpc.sharing import additive"),
        ("mpc.net.channel", "from mpc.wire import Frame"),
        ("mpc.net.channel", "from mpc.config import Limits"),
        ("mpc.node", "from mpc.net.mesh import Mesh"),
        ("mpc.cli", "from mpc.testing import run_plan"),
        ("mpc.sharing.shamir", "from mpc.protocols.context import Context"),
        ("mpc.field", "from mpc.rng import Csprng"),
        ("mpc.dsl.plan", "from mpc.suite import Suite"),
        ("mpc.dsl.plan", "import hashlib, msgpack"),
        ("mpc.protocols.inputs", "import itertools"),
    ],
)
def test_layering_allows_what_the_table_allows(module: str, line: str) -> None:
    source = mpc_modules()[module].read_text() + "\n" + line + "\n"
    assert violations(module, source) == []


def test_layering_unknown_module_must_be_added_to_the_table() -> None:
    problems = violations("mpc.mystery", "import numpy\n", KNOWN | {"mpc.mystery"})
    assert problems == [f"mpc.mystery is not in the layer table: {TABLE_HINT}"]
    # an importer of an unknown module is not excused either
    problems = violations("mpc.engine", "from mpc.mystery import x\n", KNOWN | {"mpc.mystery"})
    assert problems
    assert "may import only" in problems[0]


def test_layering_future_packages_belong_to_the_core() -> None:
    layer = layer_of("mpc.preprocessing.dealer")
    assert layer is not None
    assert layer.name.startswith("1 core")
    known = KNOWN | {"mpc.gc.garble", "mpc.gc"}
    assert violations("mpc.gc.garble", "from mpc.sharing import shamir\n", known) == []
    assert violations("mpc.gc.garble", "import trio\n", known)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("import trio", "never import trio"),
        ("from mpc.net import mesh", "only the public mpc / mpc.dsl"),
        ("from mpc.engine import Engine", "only the public mpc / mpc.dsl"),
        ("from mpc.dsl.trace import Secret", "only the public mpc / mpc.dsl"),
        ("from mpc.dsl import _TRACER", "public names only"),
        ("import socket", "never import socket"),
        ("import pandas", "only numpy"),
        ("x = np.random.rand(3)", "numpy.random"),
    ],
)
def test_layering_catches_a_forbidden_circuit_import(line: str, expected: str) -> None:
    source = (CIRCUITS_DIR / "secure_sum.py").read_text() + "\nimport numpy as np\n"
    assert circuit_violations("circuits.secure_sum", source) == []
    problems = circuit_violations("circuits.secure_sum", source + line + "\n")
    assert any(expected in p for p in problems), problems

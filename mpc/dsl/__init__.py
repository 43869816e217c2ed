"""The circuit DSL: write a circuit as a Python function over secure values, compile it to a Plan.

```python
from mpc import dsl

@dsl.circuit(params={"bits": 40})
def secure_sum(job: dsl.Job) -> None:
    columns = [dsl.input(p, "values", "value") for p in job.parties]
    total = sum(columns)                 # elementwise, local
    dsl.reveal(total, "sum")             # to every party
    dsl.reveal(dsl.sum(total), "total")  # Σ over rows

@dsl.circuit(frac_bits=24)
def inner_product(job: dsl.Job) -> None:
    x = dsl.input(0, "x", "x", fixed=True, bits=8)
    y = dsl.input(1, "y", "y", fixed=True, bits=8)
    dsl.reveal(dsl.dot(x, y), "dot")     # one round; the result reveals as a float
```
"""

from mpc.dsl.api import (
    argmax,
    concatenate,
    dot,
    input,
    maximum,
    minimum,
    reveal,
    square,
    sum,
    transpose,
    where,
)
from mpc.dsl.compiler import (
    Circuit,
    CompileSpec,
    choose_domain,
    circuit,
    compile,
    load_circuit,
    resolve_params,
)
from mpc.dsl.ir import OPS, Node, OpSpec
from mpc.dsl.plan import Cost, Group, InputSpec, Layer, Output, Plan
from mpc.dsl.trace import DRIVER, Job, Secret, ShapeMismatchError, Source, constant
from mpc.dsl.types import KAPPA, VType

__all__ = [
    "DRIVER",
    "KAPPA",
    "OPS",
    "Circuit",
    "CompileSpec",
    "Cost",
    "Group",
    "InputSpec",
    "Job",
    "Layer",
    "Node",
    "OpSpec",
    "Output",
    "Plan",
    "Secret",
    "ShapeMismatchError",
    "Source",
    "VType",
    "argmax",
    "choose_domain",
    "circuit",
    "compile",
    "concatenate",
    "constant",
    "dot",
    "input",
    "load_circuit",
    "maximum",
    "minimum",
    "resolve_params",
    "reveal",
    "square",
    "sum",
    "transpose",
    "where",
]

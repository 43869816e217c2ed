"""The circuit DSL: write a circuit as a Python function over secure values, compile it to a Plan.

```python
from mpc import dsl

@dsl.circuit
def secure_sum(job: dsl.Job) -> None:
    columns = [dsl.input(p, "values", "value") for p in job.parties]
    total = sum(columns)                 # elementwise, local
    dsl.reveal(total, "sum")             # to every party
    dsl.reveal(dsl.sum(total), "total")  # Σ over rows
```
"""

from mpc.dsl.compiler import Circuit, CompileSpec, circuit, compile, load_circuit, resolve_params
from mpc.dsl.ir import OPS, Node, OpSpec, VType
from mpc.dsl.plan import Cost, Group, InputSpec, Layer, Output, Plan
from mpc.dsl.trace import (
    DRIVER,
    Job,
    Secret,
    ShapeMismatchError,
    Source,
    constant,
    input,
    reveal,
    sum,
)

__all__ = [
    "DRIVER",
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
    "circuit",
    "compile",
    "constant",
    "input",
    "load_circuit",
    "resolve_params",
    "reveal",
    "sum",
]

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

@dsl.circuit
def aes(job: dsl.Job) -> None:          # an imported Bristol circuit, garbled between 0 and 1
    cipher = dsl.bristol("aes_128.txt")
    key = dsl.input_bits(0, "a", "hex", bits=cipher.input_widths[0])
    block = dsl.input_bits(1, "b", "hex", bits=cipher.input_widths[1])
    dsl.reveal(cipher(key, block), "out")  # hex strings, to parties 0 and 1
```
"""

from mpc.dsl.api import (
    BristolCall,
    Garbled,
    argmax,
    bristol,
    concatenate,
    dot,
    input,
    input_bits,
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
    "BristolCall",
    "Circuit",
    "CompileSpec",
    "Cost",
    "Garbled",
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
    "bristol",
    "choose_domain",
    "circuit",
    "compile",
    "concatenate",
    "constant",
    "dot",
    "input",
    "input_bits",
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

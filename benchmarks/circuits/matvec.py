"""Matrix × vector: party 0's matrix A (rows × cols) times party 1's vector v (a benchmark).

Party 0 inputs columns `c0..c{cols-1}` of its dataset `a` (one matrix row per CSV row); party 1
inputs v as one CSV row, columns `c0..c{cols-1}` of its dataset `v` (so every shape is right
whatever the row counts, as when a party compiles the circuit before it knows them). Integers
with |x| < 2^bits. The product `av` = A·v (rows integers) is revealed to the job's receivers.
Cost: Shamir reshares `rows` elements (each entry of A·v is one degree reduction); additive
needs one matrix triple of A's and v's shapes.
"""

from mpc import dsl


@dsl.circuit(params={"bits": 16, "cols": 1000})
def matvec(job: dsl.Job) -> None:
    bits, cols = int(job.params["bits"]), int(job.params["cols"])
    names = [f"c{j}" for j in range(cols)]
    a = dsl.input(0, "a", names, bits=bits)
    v = dsl.input(1, "v", names, bits=bits)  # (1, cols)
    dsl.reveal((a @ v.T)[:, 0], "av")

"""Matrix × matrix: party 0's A (n × k) times party 1's B (k × m) (a benchmark).

Party 0 inputs columns `c0..c{k-1}` of its dataset `a` (one row of A per CSV row); party 1
stores B by columns: columns `c0..c{k-1}` of its dataset `bt`, one column of B per CSV row (so
every shape is right whatever the row counts, as when a party compiles the circuit before it
knows them). Integers with |x| < 2^bits. The product `ab` (n × m integers) is revealed to the
job's receivers. Cost: Shamir reshares n·m elements (one degree reduction per entry); additive
needs one matrix triple of A's and B's shapes.
"""

from mpc import dsl


@dsl.circuit(params={"bits": 16, "k": 256})
def matmul(job: dsl.Job) -> None:
    bits, k = int(job.params["bits"]), int(job.params["k"])
    names = [f"c{j}" for j in range(k)]
    a = dsl.input(0, "a", names, bits=bits)  # (n, k)
    bt = dsl.input(1, "bt", names, bits=bits)  # (m, k): B transposed
    dsl.reveal(a @ bt.T, "ab")

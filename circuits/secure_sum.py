"""Secure sum: the element-wise sum of every party's `value` column, and its grand total.

Each party inputs column `value` of its dataset `values` (signed integers, |x| < 2^bits, the same
number of rows at every party). Outputs, revealed to the job's receivers (every party by default):
- `sum`: the element-wise sum over parties (one integer per row);
- `total`: the sum of all rows of all parties.
Nothing else is revealed (row counts are public, as for every input).
"""

from mpc import dsl


@dsl.circuit(params={"bits": 40})
def secure_sum(job: dsl.Job) -> None:
    bits = int(job.params["bits"])
    columns = [dsl.input(party, "values", "value", bits=bits) for party in job.parties]
    elementwise = sum(columns[1:], start=columns[0])
    dsl.reveal(elementwise, "sum")
    dsl.reveal(dsl.sum(elementwise), "total")

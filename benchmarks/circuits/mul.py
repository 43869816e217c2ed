"""Elementwise products of two parties' integer columns: product_i = x_i·y_i (a benchmark).

Party 0 inputs column `x` of its dataset `x`, party 1 column `y` of its dataset `y` (integers
with |v| < 2^bits, the same number of rows). Every product is revealed (`product`, one integer
per row) to the job's receivers. Cost: one secure product per row, in one round (Shamir: one
resharing; additive: one Beaver triple per row from the preprocessing provider).
"""

from mpc import dsl


@dsl.circuit(params={"bits": 20})
def mul(job: dsl.Job) -> None:
    bits = int(job.params["bits"])
    x = dsl.input(0, "x", "x", bits=bits)
    y = dsl.input(1, "y", "y", bits=bits)
    dsl.reveal(x * y, "product")

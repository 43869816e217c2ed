"""Inner product of two parties' decimal columns: dot = Σ_i x_i·y_i.

Party 0 inputs column `x` of its dataset `x`, party 1 column `y` of its dataset `y` (decimals
with |v| < 2^bits, the same number of rows). The result is revealed to the job's receivers (every
party by default) as a float. Fixed point with 24 fractional bits: each input is rounded to
2^-25, and the product is truncated once after the sum (error below 2^-24), so for 10^4 rows of
|x|, |y| ≤ 100 the absolute error stays well below 10^-3.

Cost: Shamir reshares one element (a dot product is one degree reduction); additive needs a
matrix triple of the vectors' size (made by the two parties with OT when n = 2, by the
honest-majority provider, or by a dealer).
"""

from mpc import dsl


@dsl.circuit(params={"bits": 8}, frac_bits=24)
def inner_product(job: dsl.Job) -> None:
    bits = int(job.params["bits"])
    x = dsl.input(0, "x", "x", fixed=True, bits=bits)
    y = dsl.input(1, "y", "y", fixed=True, bits=bits)
    dsl.reveal(dsl.dot(x, y), "dot")

"""Yao's millionaires, row by row: greater_i = 1 if party 0's wealth_i > party 1's, else 0.

Party 0 inputs column `wealth` of its dataset `wealth`, party 1 the same (integers with
|v| < 2^bits, the same number of rows). The output `greater` (one 0/1 per row; ties give 0) is
revealed to the job's receivers (both parties by default). Nothing else is revealed: not the
difference, not which rows tie.

One comparison for all rows at once. With the additive suite and n = 2 and no dealer, a
garbled circuit (party 0 garbles, party 1 evaluates): no preprocessing and no third party.
With `--preprocessing dealer` (a trusted dealer process), a boolean-share circuit on the
dealer's word triples instead (semi-honest while the dealer colludes with no party). In a
field (Shamir) the parties reshare to a garbler and an evaluator and the result comes back
through one suite product.
"""

from mpc import dsl


@dsl.circuit(params={"bits": 32})
def millionaires(job: dsl.Job) -> None:
    bits = int(job.params["bits"])
    a = dsl.input(0, "wealth", "wealth", bits=bits)
    b = dsl.input(1, "wealth", "wealth", bits=bits)
    dsl.reveal(a > b, "greater")

"""Run an imported Bristol Fashion circuit between two parties: `--param circuit=FILE`.

The file is any two-input, one-output Bristol circuit (EMP-toolkit, MP-SPDZ, SCALE-MAMBA; e.g.
AES-128: key, plaintext → ciphertext). Party 0 inputs column `hex` of its dataset `a` (the
circuit's first input), party 1 column `hex` of its dataset `b` (the second): one big-endian
hex number per row, every row run in one batch. Output `out`: the hex results, revealed to both
parties. Party 0 garbles, party 1 evaluates (its bits enter by oblivious transfer); each learns
the outputs and nothing else about the other's inputs (semi-honest).

A party only loads circuit files its config lists among its `circuits` (`mpc local` allows the
file the parameter names).
"""

from mpc import dsl


@dsl.circuit(params={"circuit": ""})
def bristol(job: dsl.Job) -> None:
    circuit = dsl.bristol(str(job.params["circuit"]))
    a = dsl.input_bits(0, "a", "hex", bits=circuit.input_widths[0])
    b = dsl.input_bits(1, "b", "hex", bits=circuit.input_widths[1])
    dsl.reveal(circuit(a, b), "out", to=[0, 1])

"""The benchmark harness (`mpc bench`): workloads, runs between real party processes, records,
reports, emulated WAN and peers side by side.

```
mpc bench --suite quick|full --net lan,wan --compare mpyc,crypten,spu --out benchmarks/results/
```
- `workloads`: the registry of every workload (what it computes, sizes, suites, the plaintext
  check); `data`: deterministic synthetic inputs;
- `runner`: one workload × size × setting × network, repeated, into a record;
- `records`: the JSON-lines record format, machine and revision; `report`: markdown and summary;
  `plots`: log-log PNGs (matplotlib, the optional `bench` extra);
- `wan`, `relay`, `probe`: network namespaces, delay and rate, and the measured round trip;
- `peers`: MPyC, CrypTen and SPU in their own virtual environments;
- `progress`: a rich progress bar or plain lines; `suite` and `cli`: the command.

This is a development tool for a source checkout (it reads `circuits/` and `benchmarks/`); the
runtime never imports it.
"""

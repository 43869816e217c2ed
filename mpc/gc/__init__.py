"""Garbled circuits: fixed-key AES hashing (`aes`), the Boolean circuit IR (`circuit`), a library of
circuits (`library`), Bristol Fashion import (`bristol`), half-gates garbling (`garble`), how a
garbling is cut into batches, chunks and frames and what it costs (`plan`), and the two-party
garbler/evaluator protocols (`protocol`). Semi-honest throughout."""

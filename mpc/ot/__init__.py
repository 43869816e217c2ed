"""Oblivious transfer: X25519 base OT (`base`), IKNP extension (`iknp`), its bit transpose
(`transpose`) and the two-party generator protocols (`protocol`). Semi-honest throughout."""

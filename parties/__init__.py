"""The plaintext edge of each role: synthetic data, CSV schemas, result writers."""

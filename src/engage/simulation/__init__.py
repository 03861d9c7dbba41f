"""Simulated campaign worlds with an oracle. Only tests, benchmarks and the CLI reach it."""

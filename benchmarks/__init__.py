"""Benchmarks of the product against peer libraries (run with the bench venv)."""

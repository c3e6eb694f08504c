"""Benchmarks at national size, each figure beside the raw limit of the same stack (issue 6)."""

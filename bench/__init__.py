"""Benchmarks: run with ``make bench``; each prints figures and ratios from one run."""

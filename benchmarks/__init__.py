"""Benchmark harness for issue 9 (see benchmarks/run.py and RESULTS.md); not part of the installed package."""

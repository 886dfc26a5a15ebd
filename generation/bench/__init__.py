"""Benchmarks, run by hand or on a GPU machine: `python -m generation.bench NAME`.

Each writes `benchmarks/NAME.json` with the numbers and a description of the machine, so results
from different machines can be told apart. Timings are never asserted in tests.
"""

"""Fuzzing every decoder of atmemu: the targets (``targets``: each decoder as a function of one byte
string, with its oracle and the typed errors it may raise), their seed corpora (``corpus``), the bounds
on one input (``guard``: time limit, watchdog, address-space cap, tracemalloc peak), the coverage-guided
atheris harness (``atheris_harness``, optional) and ``python -m tools.fuzz``, the long run behind
``make fuzz`` that prints, per decoder, the inputs tried and the crashes found.

The hypothesis tests that use them, with the structure-aware mutations, are in ``tests/fuzz``.
"""

"""Plain reference implementations, written for clarity rather than speed.

They model the standards bit by bit with the ``bitstring`` library, share no tables or code with the
fast implementations in :mod:`hw`, and serve the tests as the independent twin those are checked
against. Never used on a hot path.
"""

"""Make the shared random cases (fabric_cases.py, beside this file) importable by the fabric tests:
pytest runs with --import-mode=importlib, which does not put test folders on sys.path."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

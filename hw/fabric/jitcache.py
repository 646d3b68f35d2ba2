"""Numba cache freshness for the fabric's kernels.

Numba's on-disk cache judges a compiled function fresh when *its own* source file is unchanged, but
a fabric kernel inlines and links code from several modules (engine.run pulls in nearly the whole
package, and hw/cell.py's HEC). An edit to a helper would leave callers running stale cached code.
So every kernel of this package gets as its "source stamp" a digest of all the package's sources
plus hw/cell.py: any edit invalidates every fabric kernel at once (one recompile of every kernel,
about 30 s cold: ``atmemu bench fabric`` reports it).

This plugs into numba's cache-locator list (numba.core.caching.CacheImpl._locator_classes, present
since numba 0.4x); if that hook is missing, numba's default per-file behaviour stays in place.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def sources_digest() -> str:
    import hw.cell

    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.glob("*.py")) + [Path(hw.cell.__file__).resolve()]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().parent == PACKAGE_DIR
    except OSError:
        return False


def install() -> bool:
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover
        return False
    impl = getattr(caching, "CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    if not isinstance(classes, list):  # pragma: no cover - a numba without the hook
        return False
    if any(getattr(c, "_atmemu_fabric", False) for c in classes):
        return True

    def package_locator(base):
        class Locator(base):
            _atmemu_fabric = True

            def get_source_stamp(self):
                return sources_digest()

            @classmethod
            def from_function(cls, py_func, py_file):
                if not _in_package(py_file):
                    return None
                return super().from_function(py_func, py_file)

        Locator.__name__ = f"Fabric{base.__name__}"
        return Locator

    # NUMBA_CACHE_DIR first (as numba does), then the in-tree __pycache__
    classes[0:0] = [package_locator(caching.UserProvidedCacheLocator), package_locator(caching.InTreeCacheLocator)]
    return True

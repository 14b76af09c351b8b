"""Make a synthetic archive for the scan benchmark (copies of real files with new UIDs in nested folders):
see dicomfast.bench.archive.

Run: ``python -m benchmarks.make_archive OUT --files 20000``.
"""

import sys

from dicomfast.bench.archive import main, make, sources

__all__ = ["main", "make", "sources"]

if __name__ == "__main__":
    sys.exit(main())

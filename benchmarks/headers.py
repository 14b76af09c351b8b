"""Header-read benchmark (dicomfast vs pydicom vs dicomsdl): see dicomfast.bench.headers.

Run: ``python -m benchmarks.headers`` (same as ``dicomfast bench --suite headers``).
"""

import sys

from dicomfast.bench import main

if __name__ == "__main__":
    sys.exit(main(["--suite", "headers", *sys.argv[1:]]))

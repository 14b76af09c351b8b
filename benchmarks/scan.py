"""Archive scan benchmark (dicomfast 1 and N threads vs a pydicom 2-process pool vs a dicomsdl loop): see
dicomfast.bench.scan.

Run: ``python -m benchmarks.scan`` (same as ``dicomfast bench --suite scan``).
"""

import sys

from dicomfast.bench import main

if __name__ == "__main__":
    sys.exit(main(["--suite", "scan", *sys.argv[1:]]))

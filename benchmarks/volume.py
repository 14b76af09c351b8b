"""Volume benchmark (CT series to a float32 HU volume vs pydicom, SimpleITK, dicomsdl; DataLoader frames/s):
see dicomfast.bench.volume.

Run: ``python -m benchmarks.volume`` (same as ``dicomfast bench --suite volume``).
"""

import sys

from dicomfast.bench import main

if __name__ == "__main__":
    sys.exit(main(["--suite", "volume", *sys.argv[1:]]))

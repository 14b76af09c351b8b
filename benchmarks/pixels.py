"""Pixel decoding benchmark (MPix/s per codec vs pydicom, gdcm, dicomsdl, imagecodecs): see dicomfast.bench.

Run: ``python -m benchmarks.pixels`` (same as ``dicomfast bench --suite pixels``).
"""

import sys

from dicomfast.bench import main

if __name__ == "__main__":
    sys.exit(main(["--suite", "pixels", *sys.argv[1:]]))

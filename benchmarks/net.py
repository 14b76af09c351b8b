"""Network benchmark (C-ECHO, C-STORE, C-FIND vs pynetdicom and DCMTK, against storescp and Orthanc on
127.0.0.1): see dicomfast.bench.net.

Run: ``python -m benchmarks.net`` (same as ``dicomfast bench --suite net``).
"""

import sys

from dicomfast.bench import main

if __name__ == "__main__":
    sys.exit(main(["--suite", "net", *sys.argv[1:]]))

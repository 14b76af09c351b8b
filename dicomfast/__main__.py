"""``python -m dicomfast``: the command line."""

import sys

from dicomfast.cli import main

sys.exit(main())

"""`python -m edgeser ...` runs the command line (see `edgeser.cli`)."""

import sys

from .cli import main

sys.exit(main())

"""`python -m neurograde` (the installed engine) runs the command line."""

import sys

from .cli import main

sys.exit(main())

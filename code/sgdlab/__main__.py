"""``python -m sgdlab grade ...``: the same as the ``sgdlab`` console script."""

import sys

from sgdlab.grading.cli import main

sys.exit(main())

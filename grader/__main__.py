"""``python -m grader``: the same as the ``grader`` command (grader/cli/)."""

import sys

from grader.cli import main

sys.exit(main())

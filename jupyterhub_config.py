"""JupyterHub configuration for Learning Studio.

Thin on purpose: settings come from the environment (STUDIO_* variables, see
docs/operator-guide.md) and the wiring lives in hub/setup.py.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub.setup import configure  # noqa: E402

configure(get_config())  # noqa: F821

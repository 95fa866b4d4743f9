"""JupyterHub configuration for Learning Studio.

Thin on purpose: settings come from the environment (STUDIO_* variables, see
docs/operator-guide.md) and the wiring lives in hub/setup.py.
"""

from hub.setup import configure

configure(get_config())  # noqa: F821

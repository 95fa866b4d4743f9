"""Local development: debug pages, any host."""
from .base import *  # noqa: F401,F403
from .base import apply_config_d, env_list

DEBUG = True
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["*"])

# Last: the operator's config.d/site/*.py files override everything above.
apply_config_d(globals())

"""Production (the compose stack): no debug, secure cookies when served over HTTPS."""
import os

from .base import *  # noqa: F401,F403
from .base import apply_config_d, env_bool

DEBUG = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_HTTPONLY = True
# Behind a TLS-terminating proxy set LS_HTTPS=1 (secure cookies, HSTS, proxy header).
if env_bool("LS_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("LS_HSTS_SECONDS", "3600"))

# Last: the operator's config.d/site/*.py files override everything above.
apply_config_d(globals())

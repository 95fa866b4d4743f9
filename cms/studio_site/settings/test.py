"""Test settings: fast hashing, in-memory mail, an isolated data dir.

With LS_TEST_POSTGRES_URL set (postgres://user:pass@host:port/db) the suite runs against
PostgreSQL; the role needs CREATEDB because Django creates test_<db>.
"""
import os
import tempfile
from pathlib import Path

import dj_database_url

from .base import *  # noqa: F401,F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
_tmp = Path(tempfile.mkdtemp(prefix="ls-cms-test-"))
MEDIA_ROOT = _tmp / "media"
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir()
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
GRADE_EVENT_SECRET = "test-grade-secret"
# AI off whatever the shell has (OPENAI_API_KEY is often set): tests turn it on themselves.
AI_API_KEY = AI_BASE_URL = ""
AI_MODEL = "gpt-4o-mini"
AI_VISION_MODEL = ""
SITE_URL = "http://testserver"
HUB_URL = "http://hub.test"
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "http://testserver/o"}  # noqa: F405
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min"},
}
AI_API_KEY = ""
_pg = os.environ.get("LS_TEST_POSTGRES_URL")
if _pg:
    DATABASES = {"default": dj_database_url.parse(_pg)}
else:
    # A file, not memory: the race tests use several threads (each its own connection).
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3", "NAME": str(_tmp / "t.db"),
        "TEST": {"NAME": str(_tmp / "test.db")},
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"},
    }}

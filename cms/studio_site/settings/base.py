"""Settings shared by every environment.

Everything has an embedded default (SQLite and media files under the data directory,
console e-mail, AI off), so `manage.py migrate && manage.py runserver` works with no
configuration. Each default can be overridden from the environment; the names are
listed in docs/cms-operator.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url

from studio_contracts import signing
from studio_contracts.config_d import ConfigFileError, config_files, part_folder, run_config_file
from studio_contracts.logs import check_log_format
from studio_site.keys import load_or_create_rsa_key, load_or_create_secret

PROJECT_DIR = Path(__file__).resolve().parent.parent  # cms/studio_site
BASE_DIR = PROJECT_DIR.parent  # cms/


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Deprecated environment names in use, each with what to set instead: the ai app logs
# them at start (settings are read before logging is set up).
DEPRECATED_ENV: list[str] = []


def env_standard(name: str, *aliases: str, default: str = "") -> str:
    """The value of environment variable ``name``, else of the first deprecated alias
    that is set (noted in DEPRECATED_ENV), else ``default``."""
    value = os.environ.get(name, "")
    for alias in aliases:
        old = os.environ.get(alias, "")
        if not old:
            continue
        if value:
            if old != value:
                DEPRECATED_ENV.append(f"{alias} is deprecated and ignored: {name} is set. "
                                      f"Remove {alias}.")
        else:
            DEPRECATED_ENV.append(f"{alias} is deprecated: rename it to {name} (same value).")
            value = old
    return value or default


def apply_config_d(settings: dict) -> list[Path]:
    """Run the operator's <STUDIO_CONFIG_D>/site/*.py files, in sorted order, on the
    settings so far (a settings module's globals()); the UPPER-CASE names they set win.

    A file that does not run stops the site with a message naming the file and line."""
    namespace = dict(settings)
    try:
        files = config_files(part_folder("site"))
        for path in files:
            run_config_file(path, namespace)
    except ConfigFileError as e:
        print(f"Learning Studio site cannot start: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    settings.update({k: v for k, v in namespace.items() if k.isupper()})
    settings["CONFIG_D_FILES"] = [str(p) for p in files]
    return files


# Where the site keeps what it makes at run time: database, media, keys, cache.
DATA_DIR = Path(os.environ.get("LS_CMS_DATA_DIR", BASE_DIR.parent / "data" / "cms")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or load_or_create_secret(DATA_DIR / "secret_key")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "cms"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Public base URL of this site (issuer of OIDC tokens, links in e-mails).
SITE_URL = os.environ.get("LS_SITE_URL", "http://localhost:8010").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL
# Public base URL of JupyterHub, for "Open in JupyterLab" links and single logout.
HUB_URL = os.environ.get("LS_HUB_URL", "http://localhost:8000").rstrip("/")
# Where the site sends a browser after logging out of the site, so the hub session ends
# too ("logout works both ways"). Empty: stay on the site.
HUB_LOGOUT_URL = os.environ.get("LS_HUB_LOGOUT_URL", "")

INSTALLED_APPS = [
    "studio_site.base",
    "studio_site.accounts",
    "studio_site.home",
    "studio_site.blog",
    "studio_site.tutorials",
    "studio_site.catalogue",
    "studio_site.progress",
    "studio_site.community",
    "studio_site.ai",
    "studio_site.api",
    "wagtail.contrib.forms",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "oauth2_provider",
    "rest_framework",
    "drf_spectacular",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    # first: counts every request, cached pages and static files included (GET /metrics)
    "studio_site.base.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "studio_site.base.security.ContentSecurityPolicyMiddleware",
    # Outermost after static files: serves anonymous page views from the cache before
    # sessions or CSRF are touched, and only stores responses that set no cookie.
    "studio_site.base.page_cache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Innermost: a signed-in session's own pages, once the user is known (page_cache.py)
    "studio_site.base.page_cache.SignedInPageCacheMiddleware",
]

ROOT_URLCONF = "studio_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "studio_site.base.context_processors.studio",
            ],
        },
    },
]

WSGI_APPLICATION = "studio_site.wsgi.application"

DATABASES = {
    # An empty DATABASE_URL (as compose passes an unset one) means the default too.
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'cms.sqlite3'}",
        conn_max_age=int(os.environ.get("LS_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers proceed while a writer commits (gunicorn runs several workers).
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6's default, now
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Own cookie names: the hub and the site share the host name (cookies ignore ports).
SESSION_COOKIE_NAME = "ls_cms_session"
CSRF_COOKIE_NAME = "ls_cms_csrftoken"
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "progress:dashboard"
LOGOUT_REDIRECT_URL = "/"
# Sign-up must confirm the address before the account can log in.
ACCOUNT_VERIFICATION_MAX_AGE = 3 * 24 * 3600

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("LS_CMS_STATIC_ROOT", DATA_DIR / "static"))
STATICFILES_DIRS = [PROJECT_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("LS_CMS_MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads: a hard cap on request bodies, and per-kind caps checked by the upload forms.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000  # decompression bombs
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
# Wagtail's image form, with the AI alt text suggestion beside the description (alt text).
WAGTAILIMAGES_IMAGE_FORM_BASE = "studio_site.ai.image_forms.ImageForm"
WAGTAILDOCS_EXTENSIONS = ["ipynb", "pdf", "txt", "csv", "zip"]
LS_DOCUMENT_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
LS_NOTEBOOK_MAX_UPLOAD_SIZE = 2 * 1024 * 1024
WAGTAILDOCS_DOCUMENT_FORM_BASE = "studio_site.tutorials.forms.LimitedDocumentForm"
WAGTAILDOCS_SERVE_METHOD = "serve_view"

EMAIL_BACKEND = os.environ.get("LS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("LS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("LS_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("LS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LS_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("LS_EMAIL_FROM", "Learning Studio <noreply@localhost>")

# Cache: shared by all gunicorn workers on one host (files under the data dir) unless a
# Redis URL is given; the anonymous page cache and its purge-on-publish need sharing.
_cache_url = os.environ.get("LS_CACHE_URL", "")
if _cache_url.startswith("redis://") or _cache_url.startswith("rediss://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": _cache_url}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "TIMEOUT": 600,
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
# Seconds a cached anonymous page lives at most (publishing purges it at once anyway).
LS_PAGE_CACHE_SECONDS = int(os.environ.get("LS_PAGE_CACHE_SECONDS", "300"))
LS_PAGE_CACHE_ENABLED = env_bool("LS_PAGE_CACHE_ENABLED", True)
# Seconds a signed-in session's own page lives at most (0: not stored). Changes to what the
# page shows purge it at once; the limit bounds relative times and counts on a page.
LS_PAGE_CACHE_SIGNED_IN_SECONDS = int(os.environ.get("LS_PAGE_CACHE_SIGNED_IN_SECONDS", "60"))

WAGTAIL_SITE_NAME = "Learning Studio"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILADMIN_RICH_TEXT_EDITORS = {
    "default": {"WIDGET": "wagtail.admin.rich_text.DraftailRichTextArea"}
}
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
# Wagtail 8 autosaves the page editor every 500 ms by default. Off: what an editor (or the
# AI bar) puts into the editor is kept only when a person presses Save draft, as before.
WAGTAIL_AUTOSAVE_INTERVAL = 0
WAGTAILEMBEDS_FINDERS = []  # no oEmbed: nothing external may load
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no avatars fetched from gravatar.com either

# --- OpenID Connect provider (django-oauth-toolkit) -----------------------------------
OIDC_RSA_PRIVATE_KEY = os.environ.get("LS_OIDC_RSA_PRIVATE_KEY") or load_or_create_rsa_key(
    DATA_DIR / "oidc_rsa_private_key.pem"
)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    "OIDC_ISS_ENDPOINT": os.environ.get("LS_OIDC_ISSUER", SITE_URL + "/o"),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # The hub's logout sends the browser here; no extra click when it is the hub asking.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "studio_site.catalogue.oidc.StudioOIDCValidator",
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "Your name and username",
        "email": "Your e-mail address",
        "groups": "Your courses and roles",
        "read": "Read your courses and progress",
        "write": "Enrol you and record your activity",
    },
    "DEFAULT_SCOPES": ["openid", "read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grants, S256 PKCE only,
    # tokens only in headers, `iss` in authorization responses, refresh replay detection.
    # (http redirect URIs stay allowed: the local demo hub is http://localhost:8000.)
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Bearer lst_...`: a personal API token made on /accounts/tokens/.
        # First, so a refused request answers 401 with `WWW-Authenticate: Bearer`.
        "studio_site.accounts.tokens.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Any other bearer token: an OAuth2 access token (authorization code + PKCE).
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("LS_API_ANON_RATE", "60/min"),
        "user": os.environ.get("LS_API_USER_RATE", "600/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Learning Studio API",
    "DESCRIPTION": "Courses, lessons, progress, community and search.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Only our API: Wagtail's admin API is internal to the editor.
    "PREPROCESSING_HOOKS": ["studio_site.api.schema.only_api_v1"],
}

# Personal API tokens (/accounts/tokens/): the lifetimes a person may choose, in days.
API_TOKEN_LIFETIMES_DAYS = [7, 30, 90, 365]
API_TOKEN_DEFAULT_DAYS = 90

# --- Signed requests from the grader and the course import -----------------------------
# The one shared secret (studio_contracts.signing) for POST /progress/events/ (grade events)
# and POST /courses/sync/ (catalogue pushes). Empty: both endpoints are off (503).
GRADE_EVENT_SECRET = os.environ.get("STUDIO_SIGNING_SECRET", "")
# How old (seconds) a signed request may be: a captured one cannot be replayed later.
GRADE_EVENT_MAX_AGE = int(os.environ.get("LS_GRADE_EVENT_MAX_AGE", str(signing.MAX_AGE)))
# Catalogue sync source: a file path or an http(s) URL serving the catalogue JSON.
CATALOGUE_SOURCE = os.environ.get("LS_CATALOGUE_SOURCE", "")

# --- AI drafting (any OpenAI-compatible endpoint) --------------------------------------
# The names the openai client and most tools read. The older LS_AI_* (the site's) and
# STUDIO_AI_* (data/studio.env) names still work, with a warning in the log
# (studio_site.ai.apps), until they are removed.
AI_API_KEY = env_standard("OPENAI_API_KEY", "LS_AI_API_KEY", "STUDIO_AI_API_KEY")
AI_BASE_URL = env_standard("OPENAI_BASE_URL", "LS_AI_BASE_URL", "STUDIO_AI_BASE_URL")
AI_MODEL = env_standard("OPENAI_MODEL", "LS_AI_MODEL", "STUDIO_AI_MODEL", default="gpt-4o-mini")
# Keep it well under the gunicorn worker timeout (60 s in the image) so a slow endpoint
# ends in a clear message, not a killed worker.
AI_TIMEOUT_SECONDS = float(os.environ.get("LS_AI_TIMEOUT", "20"))
# The model that reads images (alt text suggestions); empty: AI_MODEL, which must then
# accept images.
AI_VISION_MODEL = os.environ.get("OPENAI_VISION_MODEL", "")
# Ask for alt text as soon as an editor uploads an image (one vision call per upload, the
# upload waits for it). False: only when an editor presses "Suggest alt text".
AI_ALT_TEXT_ON_UPLOAD = True

# Bearer token that may read GET /metrics (Prometheus); empty: /metrics is off (404).
METRICS_TOKEN = os.environ.get("LS_METRICS_TOKEN", "")

# LS_LOG_FORMAT=json (the stack passes STUDIO_LOG_FORMAT): one JSON object per log line.
LOG_FORMAT = check_log_format(os.environ.get("LS_LOG_FORMAT", ""), "LS_LOG_FORMAT")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "studio_contracts.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "json" if LOG_FORMAT == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Wagtail 8 runs its search-index and reference-index updates as django-tasks
        # (immediately, in process) and logs two INFO lines per task and page save.
        "django_tasks": {"level": "WARNING"},
    },
}

# An example site file of config.d: copy it to data/config.d/site/ and run
# ./studio restart cms. It runs last on the site's settings, as their globals: UPPER_CASE
# names it sets win (docs/cms-operator.md lists the settings).
WAGTAIL_SITE_NAME = "Physics Club"
LS_PAGE_CACHE_SECONDS = 60
DEFAULT_FROM_EMAIL = "Physics Club <noreply@physics.example.org>"
AI_TIMEOUT_SECONDS = 40
CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, "https://physics.example.org"]  # noqa: F405,F821

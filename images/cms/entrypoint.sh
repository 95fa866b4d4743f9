#!/bin/sh
# Start the Wagtail site: migrate, register the hub's OIDC client and (optionally) the demo,
# then serve with gunicorn. `cms-entrypoint manage <args>` runs a management command instead.
set -eu
cd /srv/cms
case "${1:-serve}" in
    manage) shift; exec python3 manage.py "$@" ;;
    serve) ;;
    *) exec "$@" ;;
esac
python3 manage.py migrate --noinput
python3 manage.py seed_demo --structure-only
# Secrets stay in the environment, never on a command line (`ps` shows those): the commands
# read LS_HUB_CLIENT_SECRET and LS_DEMO_PASSWORD themselves.
if [ -n "${LS_HUB_CLIENT_ID:-}" ]; then
    : "${LS_HUB_CLIENT_SECRET:?set LS_HUB_CLIENT_SECRET}"
    set -- --client-id "$LS_HUB_CLIENT_ID" --redirect-uri "${LS_HUB_REDIRECT_URI:?set LS_HUB_REDIRECT_URI}"
    if [ -n "${LS_HUB_POST_LOGOUT_URI:-}" ]; then set -- "$@" --post-logout-redirect-uri "$LS_HUB_POST_LOGOUT_URI"; fi
    python3 manage.py ensure_hub_client "$@"
fi
if [ "${LS_SEED_DEMO:-0}" = "1" ]; then
    # In the stack the courses come from `course import`: no sample course, and the demo
    # people are enrolled once the catalogue has the real ones (studio up runs it again).
    python3 manage.py seed_demo ${LS_DEMO_CATALOGUE_COURSES:+--catalogue-courses}
fi
if [ -n "${LS_CATALOGUE_SOURCE:-}" ]; then
    # The grader may not be up yet: a failed sync is logged, not fatal; run it again later.
    python3 manage.py sync_catalogue || echo "catalogue sync failed; retry: cms-entrypoint manage sync_catalogue" >&2
fi
# Each gunicorn worker writes its metrics here and GET /metrics adds them up (a fresh
# folder at each start: the counters restart with the server, as Prometheus expects).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/ls-site-metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
exec gunicorn studio_site.wsgi --bind "${LS_CMS_BIND_IP:-0.0.0.0}:${LS_CMS_PORT}" --workers "${LS_CMS_WORKERS}" \
    --timeout "${LS_GUNICORN_TIMEOUT:-60}" --access-logfile - \
    --forwarded-allow-ips "${LS_FORWARDED_ALLOW_IPS:-127.0.0.1}"

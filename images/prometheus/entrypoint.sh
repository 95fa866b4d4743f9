#!/bin/sh
# Write Prometheus's configuration from the stack's settings, then run it on loopback.
#   hub     http://<proxy>/hub/metrics        (the `prometheus` hub service: read:metrics)
#   grader  http://127.0.0.1:<grader metrics port>/metrics
#   site    http://127.0.0.1:<site port>/metrics
# All three take the same bearer token, STUDIO_METRICS_TOKEN; it is written to a file
# (mode 0600) and removed from the environment before Prometheus starts.
set -eu
: "${STUDIO_METRICS_TOKEN:?set STUDIO_METRICS_TOKEN (./studio up generates it into data/studio.env)}"
conf="${TMPDIR:-/tmp}/learning-studio-prometheus"
umask 077
mkdir -p "$conf"
printf '%s' "$STUDIO_METRICS_TOKEN" > "$conf/token"
unset STUDIO_METRICS_TOKEN
bind="${STUDIO_BIND_IP:-127.0.0.1}"
case "$bind" in 0.0.0.0|"::"|"") bind=127.0.0.1 ;; esac
interval="${STUDIO_PROMETHEUS_SCRAPE_INTERVAL:-15s}"
cat > "$conf/prometheus.yml" <<YML
global:
  scrape_interval: $interval
  evaluation_interval: $interval
rule_files:
  - /etc/learning-studio/alerts.yml
scrape_configs:
  - job_name: hub
    metrics_path: /hub/metrics
    authorization: {credentials_file: $conf/token}
    static_configs: [{targets: ["$bind:${STUDIO_PORT:-8000}"]}]
  - job_name: grader
    metrics_path: /metrics
    authorization: {credentials_file: $conf/token}
    static_configs: [{targets: ["127.0.0.1:${STUDIO_GRADER_METRICS_PORT:-8083}"]}]
  - job_name: site
    metrics_path: /metrics
    authorization: {credentials_file: $conf/token}
    static_configs: [{targets: ["127.0.0.1:${STUDIO_CMS_PORT:-8010}"]}]
  - job_name: prometheus
    static_configs: [{targets: ["127.0.0.1:${STUDIO_PROMETHEUS_PORT:-9090}"]}]
YML
exec prometheus --config.file="$conf/prometheus.yml" \
    --storage.tsdb.path=/var/lib/prometheus/metrics2 \
    --storage.tsdb.retention.time="${STUDIO_PROMETHEUS_RETENTION:-15d}" \
    --web.listen-address="127.0.0.1:${STUDIO_PROMETHEUS_PORT:-9090}" \
    "$@"

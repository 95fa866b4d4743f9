#!/bin/sh
# Write the Caddyfile of the TLS front from the stack's settings and run caddy with it.
#
#   STUDIO_PUBLIC_HOST   the public host; learners' servers are <name>.<host>, the grader
#                        grader--service.<host> (JupyterHub's subdomain_host)
#   STUDIO_SUBDOMAINS    1 (default): <host> and *.<host>; 0: the path-based mode, the
#                        public host alone (learners' servers are <host>/user/<name>/): no
#                        wildcard, no on-demand certificates, HSTS without includeSubDomains
#   STUDIO_TLS           acme:     certificates over ACME (Let's Encrypt by default): the
#                                  public host's at start, a learner's on their first visit
#                                  (on-demand, approved by the hub's tls-ask service)
#                        own:      the operator's certificate and key (a wildcard for
#                                  <host> and *.<host>), mounted at /certs
#                        internal: caddy's own CA (a LAN): its root is in the caddy-data
#                                  volume, pki/authorities/local/root.crt
#   STUDIO_HTTP_PORT, STUDIO_HTTPS_PORT   where caddy listens (80, 443); HTTP redirects
#   STUDIO_ACME_EMAIL, STUDIO_ACME_CA, STUDIO_ACME_CA_ROOT (mounted at /acme-ca-root.pem)
#   STUDIO_PORT          the configurable-http-proxy on loopback, where caddy proxies to
#   STUDIO_TLS_ASK_PORT  the hub's tls-ask service on loopback
#   STUDIO_HSTS_SECONDS  Strict-Transport-Security max-age
set -eu
host="${STUDIO_PUBLIC_HOST:?set STUDIO_PUBLIC_HOST}"
mode="${STUDIO_TLS:-acme}"
hsts="${STUDIO_HSTS_SECONDS:-31536000}"
subdomains="${STUDIO_SUBDOMAINS:-1}"
case "$subdomains" in
    1|0) ;;
    *) echo "caddy-entrypoint: STUDIO_SUBDOMAINS=$subdomains: use 1 (<host> and *.<host>) or 0 (<host> alone)" >&2; exit 2 ;;
esac
file=/config/Caddyfile
upstream="${STUDIO_BIND_IP:-127.0.0.1}"
case "$upstream" in 0.0.0.0|"::"|"") upstream=127.0.0.1 ;; esac
mkdir -p /config

https_port_suffix=""
[ "${STUDIO_HTTPS_PORT:-443}" = 443 ] || https_port_suffix=":${STUDIO_HTTPS_PORT}"

global_acme=""
if [ "$mode" = acme ]; then
    [ -n "${STUDIO_ACME_EMAIL:-}" ] && global_acme="$global_acme
	email ${STUDIO_ACME_EMAIL}"
    [ -n "${STUDIO_ACME_CA:-}" ] && global_acme="$global_acme
	acme_ca ${STUDIO_ACME_CA}"
    [ -s /acme-ca-root.pem ] && global_acme="$global_acme
	acme_ca_root /acme-ca-root.pem"
fi

case "$mode" in
    acme)     public_tls=""; learner_tls="tls {
		on_demand
	}" ;;
    internal) public_tls="tls internal"; learner_tls="tls {
		issuer internal
		on_demand
	}" ;;
    own)      public_tls="tls /certs/cert.pem /certs/key.pem"; learner_tls="$public_tls" ;;
    *) echo "caddy-entrypoint: STUDIO_TLS=$mode is not a TLS mode: use acme, own or internal" >&2; exit 2 ;;
esac

# With subdomains: the learners' names, their certificates on demand (asked of the hub's
# tls-ask service first), and HSTS for them too. Without: the public host and nothing else.
if [ "$subdomains" = 1 ]; then
    hsts_value="max-age=$hsts; includeSubDomains"
    on_demand="
	on_demand_tls {
		ask http://127.0.0.1:${STUDIO_TLS_ASK_PORT:-8084}/
	}"
    learner_sites="
*.$host {
	$learner_tls
	import studio
}
"
    http_sites="http://$host, http://*.$host"
    names="$host and *.$host"
else
    hsts_value="max-age=$hsts"
    on_demand=""
    learner_sites=""
    http_sites="http://$host"
    names="$host alone (learners' servers on its paths)"
fi

cat > "$file" <<CADDY
{
	admin off
	http_port ${STUDIO_HTTP_PORT:-80}
	https_port ${STUDIO_HTTPS_PORT:-443}$global_acme$on_demand
}

(studio) {
	header {
		Strict-Transport-Security "$hsts_value"
		defer
	}
	# the proxy adds no X-Forwarded-* of its own (docker-compose.tls.yml): the hub, the
	# learners' servers and the site see https from these
	reverse_proxy $upstream:${STUDIO_PORT:-8000}
}

$host {
	$public_tls
	import studio
}
$learner_sites
# HTTP: to HTTPS, same host and path (ACME's HTTP challenges are answered before this)
$http_sites {
	redir https://{host}$https_port_suffix{uri} 308
}
CADDY
echo "caddy-entrypoint: TLS $mode for $names on :${STUDIO_HTTPS_PORT:-443} (HTTP :${STUDIO_HTTP_PORT:-80} redirects)" >&2
exec caddy run --config "$file" --adapter caddyfile

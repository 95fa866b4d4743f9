#!/bin/sh
# Write the Caddyfile of the TLS front from the stack's settings and run caddy with it.
#
#   STUDIO_PUBLIC_HOST   the public host; learners' servers are <name>.<host>, the grader
#                        grader--service.<host> (JupyterHub's subdomain_host)
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

cat > "$file" <<CADDY
{
	admin off
	http_port ${STUDIO_HTTP_PORT:-80}
	https_port ${STUDIO_HTTPS_PORT:-443}$global_acme
	on_demand_tls {
		ask http://127.0.0.1:${STUDIO_TLS_ASK_PORT:-8084}/
	}
}

(studio) {
	header {
		Strict-Transport-Security "max-age=$hsts; includeSubDomains"
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

*.$host {
	$learner_tls
	import studio
}

# HTTP: to HTTPS, same host and path (ACME's HTTP challenges are answered before this)
http://$host, http://*.$host {
	redir https://{host}$https_port_suffix{uri} 308
}
CADDY
echo "caddy-entrypoint: TLS $mode for $host and *.$host on :${STUDIO_HTTPS_PORT:-443} (HTTP :${STUDIO_HTTP_PORT:-80} redirects)" >&2
exec caddy run --config "$file" --adapter caddyfile

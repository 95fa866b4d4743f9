#!/bin/sh
# Write redis's configuration (with the password, in a file only the redis user reads)
# from the stack's settings, then run it on 127.0.0.1:$STUDIO_REDIS_PORT.
set -eu
: "${STUDIO_REDIS_PASSWORD:?set STUDIO_REDIS_PASSWORD (./studio up generates it into data/studio.env)}"
conf="${TMPDIR:-/tmp}/learning-studio-redis.conf"
umask 077
cat > "$conf" <<CONF
bind 127.0.0.1
port ${STUDIO_REDIS_PORT:-6380}
protected-mode yes
requirepass $STUDIO_REDIS_PASSWORD
save ""
appendonly no
maxmemory ${STUDIO_REDIS_MAXMEMORY:-128mb}
maxmemory-policy allkeys-lru
CONF
unset STUDIO_REDIS_PASSWORD
exec redis-server "$conf"

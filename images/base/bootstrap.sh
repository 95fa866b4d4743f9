#!/usr/bin/env bash
# Make the base image every Learning Studio Dockerfile builds FROM.
#
# Where a registry answers, the stock debian:bookworm-slim is used. Where none does (an
# offline or registry-less machine), a minimal Debian bookworm root filesystem is built
# with debootstrap from the Debian package mirror and `docker import`ed under the same
# tag, so the Dockerfiles build unchanged either way.
set -euo pipefail

TAG="${STUDIO_BASE_IMAGE:-learning-studio/base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${DEBIAN_SUITE:-bookworm}"

log() { printf '[base] %s\n' "$*" >&2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
    log "base image $TAG is present; reusing it"
    exit 0
fi

if [ "${STUDIO_TRY_PULL:-1}" = 1 ] && timeout 20 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
    log "pulled debian:bookworm-slim; tagging it as $TAG"
    docker tag debian:bookworm-slim "$TAG"
    exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "no registry answered and debootstrap is missing; installing Debian's debootstrap"
        apt-get install -y -q debootstrap >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }
    else
        log "no registry answered and debootstrap is not installed."
        log "Install it (Debian/Ubuntu: 'sudo apt-get install debootstrap') or make debian:bookworm-slim pullable, then run again."
        exit 1
    fi
fi

work="$(mktemp -d /var/tmp/studio-rootfs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
log "building a minimal Debian $SUITE root filesystem from $MIRROR (takes a few minutes, once)"
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$work/rootfs" "$MIRROR" 2>&1 \
    | grep --line-buffered -E '^I: (Retrieving|Validating|Extracting|Installing|Configuring|Base system)' \
    | awk '{ n++; if ($2 != last || n % 25 == 0) { print "[base]   " $0; fflush(); last = $2 } }' >&2 || true
test -x "$work/rootfs/bin/sh" || { log "debootstrap failed; see the messages above"; exit 1; }

# Trim what a container never needs: apt lists, caches, docs, man pages.
rm -rf "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/cache/apt/*.bin \
       "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/usr/share/doc/* \
       "$work/rootfs"/usr/share/man/* "$work/rootfs"/usr/share/info/*
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" > "$work/rootfs/etc/apt/sources.list"

log "importing the root filesystem as $TAG"
tar -C "$work/rootfs" --numeric-owner -c . \
    | docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$TAG" >/dev/null
log "base image $TAG is ready ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"

#!/usr/bin/env bash
# Build Learning Studio's images with visible progress: the base (bootstrapped where no
# registry answers), the learner image, the control-plane (hub + proxy) image and the
# Wagtail site's image. A second run reuses every cached layer.
# Usage: images/build.sh [learner|hub|cms|all|prometheus|postgres|redis|caddy]
# (prometheus, for STUDIO_MONITORING=1, postgres and redis, for STUDIO_DB=postgres, and
# caddy, the TLS front on a real domain, are not part of all: ./studio up builds them when
# asked)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
BASE="${STUDIO_BASE_IMAGE:-learning-studio/base:bookworm}"
LEARNER="${STUDIO_LEARNER_IMAGE:-learning-studio/learner:latest}"
HUB="${STUDIO_HUB_IMAGE:-learning-studio/hub:latest}"
CMS="${STUDIO_CMS_IMAGE:-learning-studio/cms:latest}"
PROMETHEUS="${STUDIO_PROMETHEUS_IMAGE:-learning-studio/prometheus:latest}"
POSTGRES="${STUDIO_POSTGRES_IMAGE:-learning-studio/postgres:latest}"
REDIS="${STUDIO_REDIS_IMAGE:-learning-studio/redis:latest}"
CADDY="${STUDIO_CADDY_IMAGE:-learning-studio/caddy:latest}"
export DOCKER_BUILDKIT=0  # the legacy builder ships with every engine; no buildx needed

log() { printf '[build] %s\n' "$*" >&2; }

ca_bundle() {
    # pip inside the build reaches PyPI with the host's CA bundle (a TLS-inspecting network
    # needs it); the Dockerfiles keep it in a builder stage, out of the final image.
    mkdir -p images/.build
    local src="${STUDIO_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
    if [ -f "$src" ]; then cp "$src" images/.build/ca-certificates.crt; else : > images/.build/ca-certificates.crt; fi
}

# Show one line per build step, and pip/apt progress as it comes, without the noise.
progress() {
    local name="$1" start=$SECONDS
    while IFS= read -r line; do
        case "$line" in
            Step\ *) printf '[build] %-8s %s\n' "$name" "${line:0:110}" >&2 ;;
            Collecting\ *|Get:*) printf '[build] %-8s   %s\n' "$name" "${line:0:100}" >&2 ;;
            Successfully\ installed*) printf '[build] %-8s   installed %s packages\n' "$name" "$(wc -w <<<"$line")" >&2 ;;
            *Error*|*ERROR*|error*|*[!A-Za-z]error*|*failed*) printf '[build] %-8s   %s\n' "$name" "$line" >&2 ;;
        esac
    done
    log "$name done in $((SECONDS - start))s"
}

# The grading libraries of an image against images/grading-lock.txt: before a build, what
# the rebuild changes in the image it replaces; after it, the new image must match.
LOCK=images/grading-lock.txt
freeze() { docker run --rm --network none --entrypoint /opt/studio/bin/pip "$1" freeze 2>/dev/null; }
lock_check() {
    local mode="$1" tag="$2" lock="$3" all=""
    [ -n "$lock" ] || return 0  # not a grading image (the site's)
    [ "$lock" = all ] && all=--all
    if [ "$mode" = before ] && ! docker image inspect "$tag" >/dev/null 2>&1; then
        log "first build of $tag: its grading libraries will be those of $LOCK"
        return 0
    fi
    freeze "$tag" | python3 images/grading_lock.py "$mode" "$LOCK" --image "$tag" $all
}

build() {
    # lock: `all` (every locked library installed: the sandbox), `installed` (those the
    # image has, at the locked versions: the grader's image) or empty (no check)
    local name="$1" tag="$2" dockerfile="$3" context="$4" lock="${5:-}"
    lock_check before "$tag" "$lock"
    log "building $tag"
    set +e
    docker build --build-arg "BASE_IMAGE=$BASE" -t "$tag" -f "$dockerfile" "$context" 2>&1 \
        | tee "images/.build/$name.log" | progress "$name"
    local rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" != 0 ]; then
        log "building $tag failed; the full log is images/.build/$name.log (last lines below)"
        tail -n 25 "images/.build/$name.log" >&2
        exit "$rc"
    fi
    lock_check verify "$tag" "$lock" || exit 1
}

ca_bundle
bash images/base/bootstrap.sh
case "$what" in
    learner|all) cp images/.build/ca-certificates.crt images/learner/ca-certificates.crt
                 cp "$LOCK" images/learner/grading-lock.txt
                 trap 'rm -f images/learner/ca-certificates.crt images/learner/grading-lock.txt images/learner/*.stage.tar' EXIT
                 # staged into the learner build context: the JupyterLab extension's npm
                 # manifest and lock (a layer of their own), its source (built from source in
                 # the image), contracts/ (a dependency of its server extension) and the
                 # courses' lesson notebooks. Fixed order, times and owners: an unchanged
                 # folder gives the same tar, so Docker reuses its cached layers.
                 stage() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner "$@"; }
                 stage -C extensions -cf images/learner/extension-deps.stage.tar \
                     learning_studio_lab/package.json learning_studio_lab/yarn.lock \
                     learning_studio_lab/.yarnrc.yml
                 stage -C extensions -cf images/learner/extension-src.stage.tar \
                     --exclude=node_modules --exclude=lib --exclude=labextension \
                     --exclude=tsconfig.tsbuildinfo --exclude=.yarn --exclude=dist \
                     --exclude=__pycache__ learning_studio_lab
                 stage -C contracts -cf images/learner/contracts.stage.tar \
                     --exclude=__pycache__ --exclude='*.egg-info' --exclude=dist .
                 (cd courses && stage -cf ../images/learner/course-library.stage.tar \
                     */course.yml */lessons)
                 build learner "$LEARNER" images/learner/Dockerfile images/learner all ;;&
    hub|all)     build hub "$HUB" images/hub/Dockerfile . installed ;;&
    cms|all)     build cms "$CMS" images/cms/Dockerfile . ;;
    prometheus)  build prometheus "$PROMETHEUS" images/prometheus/Dockerfile images/prometheus ;;
    postgres)    build postgres "$POSTGRES" images/postgres/Dockerfile images/postgres ;;
    redis)       build redis "$REDIS" images/redis/Dockerfile images/redis ;;
    caddy)       build caddy "$CADDY" images/caddy/Dockerfile images/caddy ;;
    learner|hub) ;;
    *) log "unknown image '$what': use learner, hub, cms, all, prometheus, postgres, redis or caddy"; exit 2 ;;
esac

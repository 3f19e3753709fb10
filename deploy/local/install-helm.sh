#!/usr/bin/env bash
# Builds the pinned helm CLI from the Go module proxy into .tools/bin/helm (git-ignored), for the chart
# checks in tests/deploy. Idempotent: when .tools/bin/helm reports the pinned version and was built
# with this script's recipe, it exits at once; otherwise `go install` builds it (about 2 to 2.5 minutes
# on 2 cores from an empty module and build cache, seconds with warm caches).
#
# Needs only Go (1.21 or later) and the Go module proxy: `helm plugin install` and helm's release
# downloads are not reachable here. When the machine's Go is older than helm's go.mod asks for,
# GOTOOLCHAIN=auto fetches the newer toolchain from the same proxy (golang.org/toolchain). Without any
# Go at all it installs Debian's golang-go first (as root), which must be 1.21 or later to do that.
set -euo pipefail

HELM_VERSION="v3.22.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/.tools/bin"
HELM="$BIN/helm"

# Bump RECIPE when the build flags change, so an older build is replaced.
RECIPE="$HELM_VERSION ldflags=version,k8s-defaults"
STAMP="$BIN/.helm.recipe"

installed_version() {
    [[ -x "$HELM" ]] || return 1
    "$HELM" version --template '{{.Version}}' 2>/dev/null
}

up_to_date() {
    [[ -f "$STAMP" && "$(cat "$STAMP")" == "$RECIPE" && "$(installed_version || true)" == "$HELM_VERSION" ]]
}

if up_to_date; then
    exit 0
fi

mkdir -p "$BIN"
# One builder at a time (two test sessions may start together); the second one finds it built.
exec 9>"$ROOT/.tools/helm.lock"
flock 9
if up_to_date; then
    exit 0
fi

GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
if [[ -z "$GO" ]]; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "install-helm: no Go found; installing Debian's golang-go"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null; }
        GO="$(command -v go)"
        if [[ -z "$("$GO" env GOTOOLCHAIN 2>/dev/null)" ]]; then
            echo "install-helm: $("$GO" version) cannot fetch a newer toolchain; install Go 1.21 or later" >&2
            exit 1
        fi
    else
        echo "install-helm: Go is required (https://go.dev/doc/install, or apt-get install golang-go)" >&2
        exit 1
    fi
fi

echo "install-helm: building helm $HELM_VERSION with $("$GO" version | cut -d' ' -f3) into $BIN (first time only)"
start=$SECONDS
staging="$(mktemp -d "$ROOT/.tools/helm-build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOFLAGS="-buildvcs=false" CGO_ENABLED=0
LOG="$ROOT/.tools/helm-build.log"
fail() {
    tail -n 40 "$LOG" >&2
    echo "install-helm: $1; full log in $LOG" >&2
    exit 1
}
# Stamped the way helm's own Makefile does it: the version, and the Kubernetes version that `helm
# template` and `helm lint` assume without --kube-version (1.<client-go minor>; unstamped it is 1.20).
"$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" >"$LOG" 2>&1 || fail "go mod download failed"
gomod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' "$LOG")"
k8s_minor="$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod")"
[[ -n "$k8s_minor" ]] || fail "cannot read the client-go version from $gomod"
LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    LDFLAGS+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
GOBIN="$staging" "$GO" install -trimpath -ldflags "$LDFLAGS" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    >>"$LOG" 2>&1 || fail "go install failed"
# Swap in the finished binary so a half-built one never looks installed.
mv -f "$staging/helm" "$HELM"
got="$(installed_version || true)"
if [[ "$got" != "$HELM_VERSION" ]]; then
    echo "install-helm: built helm reports version '$got', expected $HELM_VERSION" >&2
    exit 1
fi
echo "$RECIPE" > "$STAMP"
echo "install-helm: helm $got (default Kubernetes 1.$k8s_minor) ready in $((SECONDS - start))s"

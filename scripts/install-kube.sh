#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy for the real-Kubernetes tests,
# and caches them OUTSIDE the clone in ${KUBE_POLICY_CACHE:-$HOME/.cache/kube-policy-mcp}/bin:
#   kube-apiserver-<k8s version>   built from scripts/kube/apiserver (wrapper module)
#   etcd-<etcd version>            built from scripts/kube/etcd      (wrapper module)
# The versions are read from the wrapper modules' go.mod files; their go.sum files pin
# every dependency. A cached binary is reused as is (the second run is instant).
#
# Prints on stdout, one per line, shell-evaluable:
#   KUBE_APISERVER_BIN=/abs/path
#   ETCD_BIN=/abs/path
# Progress goes to stderr. Options: --force rebuilds both binaries.
# The first build takes a while (measured on 2 cores: ~6 min for kube-apiserver, ~30 s for etcd).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kube_dir="$root/scripts/kube"
cache="${KUBE_POLICY_CACHE:-${HOME:-/root}/.cache/kube-policy-mcp}"
bin_dir="$cache/bin"
force=0

for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-kube: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

log() { echo "install-kube: $*" >&2; }

# Version of a required module, read from a wrapper go.mod (a `require` line, not a replace).
mod_version() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}

k8s_version="$(mod_version "$kube_dir/apiserver/go.mod" k8s.io/kubernetes)"
etcd_version="$(mod_version "$kube_dir/etcd/go.mod" go.etcd.io/etcd/server/v3)"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  log "could not read the pinned versions from $kube_dir/{apiserver,etcd}/go.mod"
  exit 1
fi

apiserver_bin="$bin_dir/kube-apiserver-$k8s_version"
etcd_bin="$bin_dir/etcd-$etcd_version"

print_paths() {
  echo "KUBE_APISERVER_BIN=$apiserver_bin"
  echo "ETCD_BIN=$etcd_bin"
}

if [[ $force -eq 0 && -x "$apiserver_bin" && -x "$etcd_bin" ]]; then
  print_paths
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed, and it is needed to build kube-apiserver $k8s_version and etcd $etcd_version"
  log "from the Go module proxy. Install Go 1.26+ (https://go.dev/dl/), put it on PATH, and run again."
  exit 1
fi

mkdir -p "$bin_dir"

# One build at a time per cache (parallel test runs may call this together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$bin_dir/.install-kube.lock"
  if ! flock -n 9; then
    log "another install-kube.sh is building into $bin_dir; waiting for it"
    flock 9
  fi
fi

export GOFLAGS="-buildvcs=false -mod=readonly"
export CGO_ENABLED=0
export GOWORK=off

log "using $(go version)"

heartbeat_pid=""
stop_heartbeat() {
  if [[ -n "$heartbeat_pid" ]]; then
    kill "$heartbeat_pid" 2>/dev/null || true
    wait "$heartbeat_pid" 2>/dev/null || true
    heartbeat_pid=""
  fi
}
trap stop_heartbeat EXIT

# build NAME WRAPPER_DIR PACKAGE OUTPUT [extra go build args...]
build() {
  local name="$1" dir="$2" pkg="$3" out="$4"
  shift 4
  if [[ $force -eq 0 && -x "$out" ]]; then
    log "$name: cached at $out"
    return 0
  fi
  local tmp="$out.tmp.$$" start=$SECONDS
  log "$name: building $pkg into $out (first time only; this can take many minutes)"
  ( while sleep 60; do echo "install-kube: $name: still building ($(( (SECONDS - start) / 60 )) min)" >&2; done ) &
  heartbeat_pid=$!
  if ! (cd "$dir" && go build -trimpath -ldflags "-s -w $*" -o "$tmp" "$pkg"); then
    stop_heartbeat
    rm -f "$tmp"
    log "$name: 'go build $pkg' failed in $dir (see the errors above)"
    exit 1
  fi
  stop_heartbeat
  mv -f "$tmp" "$out"
  log "$name: built in $(( SECONDS - start ))s, $(du -h "$out" | cut -f1)"
}

k8s_minor="${k8s_version#v1.}"
k8s_minor="${k8s_minor%%.*}"
version_pkg=k8s.io/component-base/version
build kube-apiserver "$kube_dir/apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$apiserver_bin" \
  "-X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$k8s_minor -X $version_pkg.gitTreeState=clean"
build etcd "$kube_dir/etcd" go.etcd.io/etcd/server/v3 "$etcd_bin" \
  "-X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version"

print_paths

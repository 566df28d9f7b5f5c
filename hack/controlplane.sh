#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane used by the end-to-end tests and `make demo`:
# etcd, kube-apiserver, kube-controller-manager, kubectl and helm, compiled from the published
# Go modules pinned in hack/controlplane/{kubernetes,etcd,helm}/go.mod.
#
# Binaries are cached outside the repository, keyed by the pinned versions and a digest of the
# module files, so a second run only checks that the files exist:
#   ${AZDO_CACHE_DIR:-$HOME/.cache/azdo-operator}/controlplane/<key>/bin/
#
# Usage:
#   hack/controlplane.sh ensure     build whatever is missing; progress on stderr, the bin dir
#                                   as the last line on stdout
#   hack/controlplane.sh bin-dir    print the bin dir (whether or not it is complete)
#   hack/controlplane.sh versions   print the pinned versions
set -euo pipefail

# Bump when the way the binaries are built changes (flags, stamping), to force a rebuild.
readonly RECIPE=1

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly MODULES_DIR="${SCRIPT_DIR}/controlplane"
readonly KUBE_BINARIES=(kube-apiserver kubectl kube-controller-manager)

log() { printf '[controlplane] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The version a module's go.mod requires for a dependency (a `require path version` line).
pinned_version() {
  local mod_file="$1" path="$2" version
  version="$(awk -v p="$path" '($1 == p || ($1 == "require" && $2 == p)) { print $NF; exit }' "$mod_file")"
  [[ -n "$version" ]] || die "no version of ${path} pinned in ${mod_file}"
  printf '%s' "$version"
}

readonly KUBERNETES_VERSION="$(pinned_version "${MODULES_DIR}/kubernetes/go.mod" k8s.io/kubernetes)"
readonly ETCD_VERSION="$(pinned_version "${MODULES_DIR}/etcd/go.mod" go.etcd.io/etcd/server/v3)"
readonly HELM_VERSION="$(pinned_version "${MODULES_DIR}/helm/go.mod" helm.sh/helm/v4)"

cache_key() {
  local digest
  digest="$(
    {
      printf 'recipe %s\n' "$RECIPE"
      cat "${MODULES_DIR}"/{kubernetes,etcd,helm}/go.{mod,sum}
    } | sha256sum | cut -c1-12
  )"
  printf 'k8s-%s_etcd-%s_helm-%s_%s' "$KUBERNETES_VERSION" "$ETCD_VERSION" "$HELM_VERSION" "$digest"
}

readonly CACHE_ROOT="${AZDO_CACHE_DIR:-${HOME}/.cache/azdo-operator}/controlplane"
readonly INSTALL_DIR="${CACHE_ROOT}/$(cache_key)"
readonly BIN_DIR="${INSTALL_DIR}/bin"

all_binaries() { printf '%s\n' etcd "${KUBE_BINARIES[@]}" helm; }

missing_binaries() {
  local name
  while read -r name; do
    [[ -x "${BIN_DIR}/${name}" ]] || printf '%s\n' "$name"
  done < <(all_binaries)
}

kube_ldflags() {
  local version="$KUBERNETES_VERSION" major minor build_date flags=(-s -w) pkg
  major="$(cut -d. -f1 <<<"${version#v}")"
  minor="$(cut -d. -f2 <<<"${version#v}")"
  build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # The same variables Kubernetes' hack/lib/version.sh stamps; "archive" is its tree state for
  # builds from a source archive (there is no git checkout and so no commit to report).
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=(
      -X "${pkg}.gitVersion=${version}"
      -X "${pkg}.gitMajor=${major}"
      -X "${pkg}.gitMinor=${minor}"
      -X "${pkg}.gitTreeState=archive"
      -X "${pkg}.buildDate=${build_date}"
    )
  done
  printf '%s ' "${flags[@]}"
}

# go build with a heartbeat on stderr, so a long cold build visibly makes progress.
build_one() {
  local name="$1" module_dir="$2" package="$3" ldflags="$4"
  local started elapsed pid status=0 partial="${BIN_DIR}/.${name}.partial"
  started="$(date +%s)"
  log "building ${name} from ${package} (a cold build takes minutes)"
  (
    cd "$module_dir"
    exec go build -o "$partial" -ldflags "$ldflags" "$package"
  ) &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do
      sleep 1
      kill -0 "$pid" 2>/dev/null || break 2
    done
    log "  still building ${name} ($(($(date +%s) - started))s)"
  done
  wait "$pid" || status=$?
  elapsed=$(($(date +%s) - started))
  if [[ $status -ne 0 ]]; then
    rm -f "$partial"
    die "go build of ${name} failed after ${elapsed}s (exit ${status})"
  fi
  mv -f "$partial" "${BIN_DIR}/${name}"
  log "built ${name} in ${elapsed}s"
  printf '%s %ss\n' "$name" "$elapsed" >>"${INSTALL_DIR}/build-times.txt"
}

build_missing() {
  local -a missing=("$@")
  command -v go >/dev/null || die "go is not installed (needed once to build the control plane)"
  # -trimpath for reproducible binaries; the go build cache and GOMODCACHE stay at their defaults.
  export GOFLAGS="-trimpath -buildvcs=false -mod=readonly" CGO_ENABLED=0
  mkdir -p "$BIN_DIR"
  log "Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}, helm ${HELM_VERSION} with $(go env GOVERSION)"
  log "missing: ${missing[*]} -> ${BIN_DIR}"
  local name
  for name in "${missing[@]}"; do
    case "$name" in
      etcd)
        build_one etcd "${MODULES_DIR}/etcd" go.etcd.io/etcd/server/v3 "-s -w" ;;
      helm)
        build_one helm "${MODULES_DIR}/helm" helm.sh/helm/v4/cmd/helm \
          "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v4/internal/version.gitTreeState=clean" ;;
      *)
        build_one "$name" "${MODULES_DIR}/kubernetes" "k8s.io/kubernetes/cmd/${name}" "$(kube_ldflags)" ;;
    esac
  done
  {
    printf 'kubernetes %s\netcd %s\nhelm %s\n' "$KUBERNETES_VERSION" "$ETCD_VERSION" "$HELM_VERSION"
  } >"${INSTALL_DIR}/VERSIONS"
}

ensure() {
  local -a missing
  mapfile -t missing < <(missing_binaries)
  if [[ ${#missing[@]} -gt 0 ]]; then
    mkdir -p "$INSTALL_DIR"
    # One builder at a time: parallel test binaries may all call ensure.
    exec 9>"${INSTALL_DIR}/.lock"
    if ! flock -n 9; then
      log "another build of ${INSTALL_DIR} is running; waiting for it"
      flock 9
    fi
    mapfile -t missing < <(missing_binaries)
    if [[ ${#missing[@]} -gt 0 ]]; then
      build_missing "${missing[@]}"
    fi
    exec 9>&-
  fi
  log "control plane binaries ready in ${BIN_DIR}"
  printf '%s\n' "$BIN_DIR"
}

case "${1:-}" in
  ensure) ensure ;;
  bin-dir) printf '%s\n' "$BIN_DIR" ;;
  versions) printf 'kubernetes %s\netcd %s\nhelm %s\n' "$KUBERNETES_VERSION" "$ETCD_VERSION" "$HELM_VERSION" ;;
  *)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

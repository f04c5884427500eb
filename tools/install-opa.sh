#!/usr/bin/env bash
# Installs the pinned OPA into a per-user cache and links it into the venv.
# A cached binary is reused when `opa version` reports the pinned version,
# so a second `make test` builds nothing.
set -euo pipefail
version="${1:?usage: install-opa.sh vX.Y.Z VENV_BIN}"
venv_bin="${2:?usage: install-opa.sh vX.Y.Z VENV_BIN}"
cache="${SLUIS_TOOLS_CACHE:-$HOME/.cache/sluis}/opa/${version}"
binary="${cache}/opa"

if [ -x "$binary" ] && "$binary" version 2>/dev/null | grep -qx "Version: ${version#v}"; then
  echo "opa ${version}: cached at ${binary}" >&2
else
  echo "opa ${version}: building with go install (takes a few minutes once)" >&2
  mkdir -p "$cache"
  GOBIN="$cache" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@${version}"
  "$binary" version | grep -qx "Version: ${version#v}"
fi
ln -sf "$binary" "${venv_bin}/opa"

#!/usr/bin/env bash
# Makes sure a PostgreSQL server (initdb, pg_ctl) is installed; tests start
# their own throwaway cluster with it.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  exit 0
fi
echo "postgresql: installing from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -q
$sudo_cmd apt-get install -y -q postgresql

#!/usr/bin/env bash
# What the test suite needs beyond Python packages, from Debian's packages: a PostgreSQL server
# answering on 127.0.0.1:5432 (the machine's cluster, started if stopped, installed if missing)
# and Prometheus with promtool (for the alert rules and the scrape test).
set -euo pipefail

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  echo "installing Prometheus from Debian's packages"
  apt_install prometheus
fi

ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

start_cluster() {
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || return 1
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
}

if ready; then exit 0; fi
if ! start_cluster; then
  echo "installing PostgreSQL from Debian's packages"
  apt_install postgresql
  # A throwaway test server: trust loopback, as the suite connects as postgres without a password.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  start_cluster
fi
for _ in $(seq 1 30); do ready && break; sleep 1; done
ready || { echo "PostgreSQL did not start" >&2; exit 1; }

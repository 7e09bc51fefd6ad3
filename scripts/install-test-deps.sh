#!/usr/bin/env bash
# Installs the Debian packages the tests use, when they are missing:
# Chromium and iproute2 (browser end-to-end tests), redis-server (cluster
# tests), nginx (load-balancer test) and openssl (TLS tests make their
# certificates). Needs root, as on CI and the dev machines.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The browser tests run in a network namespace of their own (unshare, and ip to set it up).
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The packages' own services (nginx, redis-server) are not wanted: tests
  # start their own on free ports and stop only those. A policy-rc.d that
  # answers 101 ("not allowed") keeps the install from starting them; one
  # already in place (Docker images ship one) is left as it is.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# From sigver scripts/install-test-deps.sh, for one apt-get install.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

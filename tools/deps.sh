#!/usr/bin/env bash
# Installs the Debian packages spandb needs, when any is missing. Used by demo.sh and
# test.sh; safe to run again. Usage: tools/deps.sh [demo|test]
set -euo pipefail
what=${1:-demo}
pkgs=(gcc pkg-config meson ninja-build libzstd-dev liblz4-dev libxxhash-dev libyajl-dev python3
      zstd lz4 libmicrohttpd-dev zlib1g-dev libedit-dev)
if [ "$what" = test ]; then
  pkgs+=(libcriterion-dev clang libclang-rt-14-dev sqlite3 libsqlite3-dev curl)
  # the real-client tests (tests/server/npm) need node and npm; a node from another
  # source may bundle npm, and Debian's npm package conflicts with it
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

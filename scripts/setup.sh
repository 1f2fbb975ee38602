#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the tests: Chromium (browser tests), nginx (the
# tile-serving benchmark's reference), OpenSceneGraph's osgconv (the OSGB reader's reference), then
# the npm packages from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v osgconv >/dev/null 2>&1 || need+=(openscenegraph)
fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk" || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
npm ci --no-audit --no-fund

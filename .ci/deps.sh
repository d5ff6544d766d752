#!/usr/bin/env bash
# System packages the tests need (called by .ci/run before `make test`).
# Idempotent: each block skips what is already installed.
set -euo pipefail
SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {  # apt_install PACKAGE...: one apt-get update per run, then install
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# Virtuoso (tests/test_remote.py runs a real Virtuoso server).
if ! command -v virtuoso-t >/dev/null || ! command -v isql-vt >/dev/null; then
  apt_install virtuoso-opensource-7-bin
fi

# Chromium (tests/test_browser.py drives Debian's chromium through playwright;
# never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

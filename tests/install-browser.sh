#!/usr/bin/env bash
# Installs Debian's chromium for the viewer's browser test (tests/test_viewer_browser.py), once:
# does nothing when a chromium binary is already there, or when apt-get is not usable (the test then
# skips with the reason). Safe to run before every test run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "install-browser.sh: no chromium and no root apt-get here; the browser test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "install-browser.sh: apt-get update failed; browser test will be skipped" >&2; exit 0; }
apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || echo "install-browser.sh: could not install chromium; the browser test will be skipped" >&2

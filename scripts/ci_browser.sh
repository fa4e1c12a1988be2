#!/usr/bin/env bash
# Install headless Chromium (Debian package) for tests/report/test_page.py's browser check.
# Idempotent: does nothing when a Chromium is already on PATH. Needs root (CI runs as root).
set -euo pipefail

for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "ci_browser: using $(command -v "$name")"
        exit 0
    fi
done

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fonts-dejavu-core: readable text in screenshots on a bare image.
apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
echo "ci_browser: installed $(chromium --version 2>/dev/null || echo chromium)"

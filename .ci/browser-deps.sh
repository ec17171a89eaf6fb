#!/usr/bin/env bash
# Installs the Debian packages the browser test (tests/browser/) needs: headless Chromium, its
# WebDriver, and a colour emoji font (so the screenshot shows the emoji the page draws).
# Idempotent: installs only what is missing. Runs as root (CI, sessions); needs only Debian's
# package archive.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
dpkg-query -W -f='${Status}' fonts-noto-color-emoji 2>/dev/null | grep -q "install ok installed" \
  || need+=(fonts-noto-color-emoji)
if [ ${#need[@]} -eq 0 ]; then
  echo "browser-deps: chromium, chromedriver and the emoji font are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "browser-deps: need root to install ${need[*]} (apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "browser-deps: installing ${need[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
/usr/bin/chromium --version 2>/dev/null || true
/usr/bin/chromedriver --version

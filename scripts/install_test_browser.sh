#!/usr/bin/env bash
# Installs what the browser tests (tests/e2e/browser) need, idempotently:
#   * Debian's chromium (when missing, and only as root with apt-get) — never Playwright's download;
#   * the playwright Python package into the given venv (default .venv), package only.
# Prints what it did. Exit 0 when chromium ends up present; when it cannot be installed, exit 1 under
# ICTBOT_REQUIRE_SERVICES=1 (CI: the browser tests must run) and 0 otherwise (they skip with the reason).
# Usage: scripts/install_test_browser.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"

chromium=""
for candidate in "${ICTBOT_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then chromium="$candidate"; break; fi
done

if [[ -n "$chromium" ]]; then
  echo "chromium: already installed ($chromium)"
elif [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: installing Debian's chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  chromium=/usr/bin/chromium
  echo "chromium: installed ($("$chromium" --version 2>/dev/null || echo "$chromium"))"
else
  echo "chromium: missing, and not root with apt-get: install it yourself (apt-get install chromium);" \
       "the browser tests skip until then" >&2
  [[ "${ICTBOT_REQUIRE_SERVICES:-}" == "1" ]] && exit 1
fi

if [[ -x "$venv/bin/python" ]]; then
  if "$venv/bin/python" -c "import playwright" 2>/dev/null; then
    echo "playwright: already installed in $venv"
  else
    echo "playwright: installing the Python package into $venv (no browser download)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$venv/bin/pip" install -q "playwright>=1.40"
  fi
else
  echo "playwright: no venv at $venv; skipped (pip install -e \".[dev]\" installs it)"
fi

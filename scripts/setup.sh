#!/usr/bin/env bash
# Set up a fresh machine (Python 3.11+, Debian): a virtual environment in .venv with the package.
#   bash scripts/setup.sh          the package and what the yearly run needs
#   bash scripts/setup.sh --test   also the test tools and Debian's Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
# WeasyPrint (the archival PDF) needs Pango, and the PDF embeds fonts from two Debian packages
# (fou_review/record/archive.py): installed in both modes, only when missing.
need=""
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "setup: installing Debian's$need for the archival PDF" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $need >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  extras="[test]"
  if [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing Debian's chromium for the browser tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  fi
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=".venv/.installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi
if [ -n "$extras" ] && [ ! -f .venv/axe/node_modules/axe-core/axe.min.js ]; then
  # axe-core for the record's accessibility test (tests/test_record_browser.py), from the npm registry
  mkdir -p .venv/axe
  npm install --silent --no-audit --no-fund --prefix .venv/axe axe-core@4.14.1 >/dev/null
fi

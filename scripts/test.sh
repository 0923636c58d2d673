#!/usr/bin/env bash
# All the tests: set up (test tools and Chromium included), then pytest, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/python -m pytest "$@"

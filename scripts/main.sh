#!/usr/bin/env bash
# The main job: set up, then review the embedded 2022 call.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/fou-review validate 2022
.venv/bin/fou-review allocate 2022 --csv reports/2022/decisions.csv

#!/usr/bin/env bash
# The main job: set up, then run the embedded 2022 call and publish its record in reports/2022/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/fou-review run 2022

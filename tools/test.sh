#!/usr/bin/env bash
# Run every test: the notebooks' inline tests, then pytest. Run from the repo root after `pip install -e ".[dev]"`.
# The browser test needs Chromium (and npm, for axe-core): Debian's are installed here when apt can (as root); without them it skips.
set -euo pipefail
cd "$(dirname "$0")/.."
export WANDB_MODE=${WANDB_MODE:-offline} WANDB_SILENT=true HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if { ! command -v chromium || ! command -v npm; } >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium npm >/dev/null 2>&1) \
    || echo "note: could not install chromium and npm; the browser test will skip"
fi
# axe-core, which the browser test runs in the page after each step, from npm into .axe/ (git-ignored); without it those checks
# are skipped with a warning, except under CI=true, where the browser test fails
if [ ! -f .axe/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
  npm install --prefix .axe --no-save --no-package-lock --no-audit --no-fund --silent axe-core@4 \
    || echo "note: could not install axe-core; the browser test's accessibility checks will be skipped"
fi
(cd nbs && nbdev_test --n_workers 2 --timing)
python -m pytest tests -q "$@"

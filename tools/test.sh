#!/usr/bin/env bash
# Run every test: the notebooks' inline tests, then pytest. Run from the repo root after `pip install -e ".[dev]"`.
# The browser test needs Chromium: Debian's is installed here when apt can (as root); without it that test skips.
set -euo pipefail
cd "$(dirname "$0")/.."
export WANDB_MODE=${WANDB_MODE:-offline} WANDB_SILENT=true HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1) \
    || echo "note: could not install chromium; the browser test will skip"
fi
(cd nbs && nbdev_test --n_workers 2 --timing)
python -m pytest tests -q "$@"

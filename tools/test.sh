#!/usr/bin/env bash
# Run every test: the notebooks' inline tests, then pytest. Run from the repo root after `pip install -e ".[dev]"`.
set -euo pipefail
cd "$(dirname "$0")/.."
export WANDB_MODE=${WANDB_MODE:-offline} WANDB_SILENT=true HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
(cd nbs && nbdev_test --n_workers 2 --timing)
python -m pytest tests -q "$@"

#!/usr/bin/env bash
# Regenerate pipeline/data/cpu-lock.txt: every package a CPU install of id2en with all its
# extras needs, pinned, for every Python and platform pyproject admits (uv's universal
# resolution). The README's install command and .ci/run install with it as pip constraints
# (-c), so a fresh machine gets exactly what CI tested. Needs uv (pip install uv).
#   bash scripts/lock.sh            # newest releases the ranges admit
#   bash scripts/lock.sh --upgrade-package transformers   # any other uv pip compile flags
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 \
    --constraint scripts/lock-constraints.txt \
    --custom-compile-command "bash scripts/lock.sh" \
    --output-file pipeline/data/cpu-lock.txt "$@"

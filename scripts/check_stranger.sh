#!/usr/bin/env bash
# The suite as a stranger meets the project: a clone of this checkout's HEAD with no
# ../shared beside it (anyone cloning the repository has none).
#   1. with the packages installed here (the lock): the tests not marked slow;
#   2. in a throwaway virtualenv resolved to the newest releases pyproject's ranges admit
#      (torch stays the CPU build 2.13.0: a newer torch is a multi-GB CUDA wheel), listing
#      the packages whose version differs from the lock: the whole suite.
# Used by .ci/run; run it by hand before changing dependencies or test models.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/id2en-stranger.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
unset ID2EN_SENTENCE_DATA

git clone -q --no-hardlinks "$root" "$work/clone/id2en"
cd "$work/clone/id2en"
[ ! -e ../shared ] || { echo "stranger: ../shared exists beside the clone" >&2; exit 1; }

echo "stranger: locked install, no ../shared: python3 -m pytest -m 'not slow'"
python3 -m pytest -q -m "not slow" -p no:cacheprovider

echo "stranger: newest releases, no ../shared"
python3 -m venv "$work/venv"
venv="$work/venv/bin"
"$venv/pip" install -q "torch==2.13.0"
"$venv/pip" install -q -e ".[dev]"   # no lock: pip takes the newest release in each range
"$venv/id2en" doctor --lock-diff
"$venv/python" -m pytest -q -p no:cacheprovider

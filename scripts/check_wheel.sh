#!/usr/bin/env bash
# Build the wheel, install it into a clean virtual environment, and run id2en from a folder
# that is not the checkout: the configs must ship in the wheel and nothing may reach back
# into the source tree. Used by .ci/run; run it by hand after packaging changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/id2en-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 -m pip wheel -q --no-deps -w "$work/dist" "$root"
python3 -m venv "$work/venv"
venv="$work/venv/bin"
# The CPU build of torch first, as the README says, so the range in pyproject is met.
"$venv/pip" install -q --disable-pip-version-check "torch==2.13.0" -c "$root/pipeline/data/cpu-lock.txt"
"$venv/pip" install -q --disable-pip-version-check "$work"/dist/id2en-*.whl -c "$root/pipeline/data/cpu-lock.txt"

cd "$work"
"$venv/id2en" --version
"$venv/id2en" config list | grep -x tiny >/dev/null || { echo "wheel: no config 'tiny'" >&2; exit 1; }
# The model builders are test support code in the checkout, not part of the wheel.
"$venv/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("pipeline.devtools") is not None)' \
    || { echo "wheel: pipeline.devtools is in the wheel" >&2; exit 1; }
(cd "$root" && "$venv/python" -m tests.support.tiny_models "$work/.tiny-models" >/dev/null)
"$venv/id2en" run "$root/examples" -o out -c tiny --progress never
records=$(find out/records -name '*.json' | wc -l)
[ "$records" -eq 5 ] || { echo "wheel: expected 5 records, found $records" >&2; exit 1; }
case "$("$venv/python" -c 'import pipeline; print(pipeline.__file__)')" in
    "$root"/*) echo "wheel: pipeline was imported from the checkout" >&2; exit 1 ;;
esac
echo "wheel check passed: $(basename "$work"/dist/id2en-*.whl) ran the examples from $work"

#!/usr/bin/env bash
# The GPU path of id2en, checked in one go on one CUDA machine (issue 25): id2en doctor,
# benchmarks/gpu_check.py (translation table, memory pressure, the whole-pipeline rows),
# `id2en run` on examples/ with -c gpu (torch fp16/bf16) and with CTranslate2 for both
# stages, the Ray engine with --gpus-per-worker 1 (where ray is installed), and the
# GPU-relevant tests with the tiny models' configs moved to run.device=cuda.
#
#   bash benchmarks/gpu_run.sh [OUT_DIR]      # OUT_DIR: $OUT, else ./gpu-run-out
#   bash benchmarks/gpu_run.sh --wheels       # here, with pip: the wheels a bare GPU
#                                             # machine lacks, into .whl/ (git-ignored)
#
# Everything is written under OUT_DIR, in a few files (the device tool returns at most 8):
#   gpu_run.log     every step's output, with "=== step: rc=N in Ts" after each one
#   summary.txt     one line per step (ok / FAILED / skipped), then gpu_check's facts
#   gpu_check.log   gpu_check's own output (its tables); gpu_check.json its facts/failures
#   doctor.json     `id2en doctor --json`
# Random-weight models (tests/support/tiny_models.py: the real opus-mt-id-en and
# distilbart-cnn-12-6 shapes, and the tiny ones) are built once into $W and reused by every
# step. Each step runs under `timeout -s KILL` (id2en and pytest stop gracefully on TERM,
# which can outlast the step), sized from what is left of BUDGET_S (default 290 s), and a
# failing step does not stop the next one. Steps: facts, doctor, models, gpu_check,
# run-gpu, run-ct2 (and run-ct2-cpu when that fails), ray-gpu, tests-cuda, tests-plain.
# STEPS (a space-separated subset) reruns only some; GPU_CHECK_ARGS passes gpu_check more
# options; DEVICE=cpu tries the whole script on a machine without a GPU (every step on the
# CPU, small gpu_check settings; LIMIT_SCALE=N multiplies each step's time limit).
#
# On the device tool (a bare machine with torch/transformers and no package index): carry
# .whl (made by --wheels) and start the command with the install line, e.g.
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
#     --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit
#   BUDGET_S=290 bash benchmarks/gpu_run.sh "$OUT"            # timeout_s ~310
# The ray wheel alone is ~79 MB, over what such a call carries, so ray-gpu skips there.
set -u
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

# Versions from pipeline/data/cpu-lock.txt; the rest of what id2en needs is on the machine.
WHEELS="pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
  typing-extensions==4.16.0 ctranslate2==4.8.5 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
  sacremoses==0.2.0"
if [[ ${1:-} == --wheels ]]; then
  # shellcheck disable=SC2086
  exec python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl $WHEELS
fi
OUT_DIR=${1:-${OUT:-$ROOT/gpu-run-out}}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
W=${W:-/tmp/id2en-gpu}
BUDGET_S=${BUDGET_S:-290}
STEPS=${STEPS:-facts doctor models gpu_check run-gpu run-ct2 ray-gpu tests-cuda tests-plain}
GPU_CHECK_ARGS=${GPU_CHECK_ARGS:-}
RUN_EXTRA=()
GPUS_PER_WORKER=1
if [[ ${DEVICE:-cuda} == cpu ]]; then
  GPU_CHECK_ARGS="--device cpu --sentences 4 --beams 1 $GPU_CHECK_ARGS"
  RUN_EXTRA=(--set run.device=cpu)
  GPUS_PER_WORKER=0
  export ID2EN_TEST_DEVICE=cpu
fi
mkdir -p "$W"
export PYTHONUNBUFFERED=1
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export ID2EN_CACHE="$W/cache" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-python3}
LOG=$OUT_DIR/gpu_run.log
SUMMARY=$OUT_DIR/summary.txt
: >"$SUMMARY"
exec > >(tee -a "$LOG") 2>&1
T0=$(date +%s)

left() { echo $((BUDGET_S - ($(date +%s) - T0))); }
wanted() { [[ " $STEPS " == *" $1 "* ]]; }

# step NAME LIMIT_S COMMAND...: run under timeout (LIMIT_S, or less if the budget is short)
step() {
  local name=$1 limit=$(($2 * ${LIMIT_SCALE:-1})) rc t
  shift 2
  wanted "$name" || return 0
  local remaining
  remaining=$(left)
  if ((remaining < 15)); then
    echo "=== $name: skipped, ${remaining}s of the budget left" | tee -a "$SUMMARY"
    return 0
  fi
  ((limit > remaining - 5)) && limit=$((remaining - 5))
  echo
  echo "=== $name (limit ${limit}s, $(date +%T), ${remaining}s of the budget left)"
  t=$(date +%s)
  timeout -s KILL "$limit" bash -c '"$@"' "$name" "$@"
  rc=$?
  t=$(($(date +%s) - t))
  echo "=== $name: rc=$rc in ${t}s"
  if ((rc == 0)); then
    echo "ok     $name (${t}s)" >>"$SUMMARY"
  elif ((rc == 99)); then
    echo "skipped $name: $(tail -1 "$W/skip-reason" 2>/dev/null)" >>"$SUMMARY"
  elif ((rc == 124 || rc == 137)); then
    echo "FAILED $name: timed out after ${t}s (limit ${limit}s)" >>"$SUMMARY"
  else
    echo "FAILED $name: rc=$rc (${t}s)" >>"$SUMMARY"
  fi
  return 0
}

facts() {
  nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv || true
  "$PY" - <<'EOF'
import importlib.metadata as md, sys, torch
print("python", sys.version.split()[0], sys.executable)
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    free, total = torch.cuda.mem_get_info()
    print("device", torch.cuda.get_device_name(0), "bf16", torch.cuda.is_bf16_supported(),
          f"free {free / 2**30:.1f} of {total / 2**30:.1f} GiB")
for name in ("transformers", "tokenizers", "sentencepiece", "safetensors", "numpy", "pyarrow",
             "pydantic", "pydantic-core", "typing_extensions", "ctranslate2", "datasets",
             "sacremoses", "huggingface_hub", "ray", "pytest"):
    try:
        print(f"  {name} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"  {name} not installed")
try:
    import ctranslate2
    print("ctranslate2 cuda devices:", ctranslate2.get_cuda_device_count())
except Exception as exc:
    print("ctranslate2:", type(exc).__name__, exc)
EOF
}

doctor() {
  "$PY" -m pipeline.cli doctor || return $?
  "$PY" -m pipeline.cli doctor --json >"$OUT_DIR/doctor.json" || return $?
  "$PY" -m pipeline.cli doctor --lock-diff | head -40
}

models() {
  "$PY" - "$W" <<'EOF'
import logging, sys, time
from pathlib import Path
sys.path[:0] = ["benchmarks", "."]
logging.basicConfig(level=logging.INFO, format="%(message)s")
import pipeline_speed, translate_speed
from tests.support.tiny_models import build_tiny_bart, build_tiny_marian
work = Path(sys.argv[1])
started = time.perf_counter()
pipeline_speed.build_models(work / "pipeline")  # gpu_check's pipeline rows, id2en run
ctx = type("Ctx", (), {"work": work})()
translate_speed.build_model(ctx)  # gpu_check's translation table (its own init)
if not (work / "tiny" / "bart" / "config.json").exists():
    build_tiny_marian(work / "tiny" / "marian")
    build_tiny_bart(work / "tiny" / "bart")
print(f"models ready in {time.perf_counter() - started:.0f}s under {work}")
EOF
}

gpu_check() {
  # the pipeline rows start only while there is time for them (--deadline-s)
  local deadline=$(($1 - 45))
  "$PY" benchmarks/gpu_check.py --work "$W" --json "$OUT_DIR/gpu_check.json" \
    --deadline-s "$deadline" $GPU_CHECK_ARGS 2>&1 | tee "$OUT_DIR/gpu_check.log"
}

# id2en run on examples/ with the random real-shape models (bounded lengths: random models
# rarely stop on their own), then what the records say ran where.
id2en_run() {
  local name=$1
  shift
  rm -rf "$W/out-$name"
  "$PY" -m pipeline.cli run examples -o "$W/out-$name" -v --progress never \
    --set translate.model="$W/pipeline/marian" --set translate.local_files_only=true \
    --set translate.num_beams=4 --set translate.max_new_tokens=40 \
    --set summarize.model="$W/pipeline/distilbart" --set summarize.local_files_only=true \
    --set summarize.num_beams=4 --set summarize.max_length=60 --set summarize.min_length=20 \
    "$@" ${RUN_EXTRA_ARGS:-}
  local rc=$?
  "$PY" - "$W/out-$name" <<'EOF' || true
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
run = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
print("run.json:", run.get("last_report"), "| elapsed", run.get("elapsed_s"))
records = [json.loads(l) for l in (out / "records.jsonl").open()] if (out / "records.jsonl").exists() else []
seen = {json.dumps(r.get("meta", {}).get("models", {}), sort_keys=True) for r in records}
for models in seen:
    for stage, facts in json.loads(models).items():
        print(f"  {stage}: device {facts.get('device')}, dtype {facts.get('dtype')}, backend {facts.get('backend')}")
for r in records:
    print(f"  {r['id']}: status {r.get('status')}, error {r.get('error')!r:.200}, "
          f"summary {(r.get('summary') or '')[:80]!r}")
EOF
  return $rc
}

run_gpu() { id2en_run gpu -c gpu; }
run_ct2() {
  id2en_run ct2 -c gpu --set stages.translate=translate.ctranslate2 \
    --set stages.summarize=summarize.ctranslate2
}
run_ct2_cpu() {
  id2en_run ct2-cpu -c gpu --set run.device=cpu --set stages.translate=translate.ctranslate2 \
    --set stages.summarize=summarize.ctranslate2
}

# The Ray engine: one worker holding the models on one GPU (a local Ray cluster).
ray_gpu() {
  if ! "$PY" -c "import ray" 2>/dev/null; then
    echo "ray is not installed here" | tee "$W/skip-reason"
    return 99
  fi
  id2en_run ray -c gpu --engine ray --workers 1 --gpus-per-worker "$GPUS_PER_WORKER"
}

# The tests build tiny models with run.device: cpu (tests/helpers.py); this plugin moves
# those configs to run.device=cuda (float32, so token-for-token comparisons still hold).
GPU_TESTS="tests/translate/test_stage.py tests/generation/test_batching.py
  tests/generation/test_faults.py tests/generation/test_beam_search.py tests/summarize/test_stage.py
  tests/generation/test_ctranslate2.py tests/summarize/test_ctranslate2.py tests/test_pipeline.py
  tests/translate/test_shortlist.py tests/guards/test_checks.py"
tests_cuda() {
  mkdir -p "$W/plugins"
  cat >"$W/plugins/cuda_tests_plugin.py" <<'EOF'
"""pytest -p cuda_tests_plugin: tests/helpers.tiny_config_dict on $ID2EN_TEST_DEVICE
(default cuda) and $ID2EN_TEST_DTYPE (default float32)."""
import os

import tests.helpers as helpers

_original = helpers.tiny_config_dict


def tiny_config_dict(models, **sections):
    data = _original(models, **sections)
    data["run"]["device"] = os.environ.get("ID2EN_TEST_DEVICE", "cuda")
    data["run"]["dtype"] = os.environ.get("ID2EN_TEST_DTYPE", "float32")
    return data


helpers.tiny_config_dict = tiny_config_dict
EOF
  # shellcheck disable=SC2086
  PYTHONPATH="$W/plugins:$PYTHONPATH" "$PY" -m pytest -q -p no:cacheprovider \
    -p cuda_tests_plugin $GPU_TESTS
}
# as written (run.device: cpu), the tests that look at CUDA itself and the Ray engine's
tests_plain() {
  "$PY" -m pytest -q -p no:cacheprovider tests/generation/test_models.py tests/cli/test_doctor.py \
    tests/engines/test_ray.py tests/generation/test_batching.py
}

RUN_EXTRA_ARGS="${RUN_EXTRA[*]:-}"
export W OUT_DIR PY GPU_TESTS GPU_CHECK_ARGS RUN_EXTRA_ARGS GPUS_PER_WORKER
export -f facts doctor models gpu_check id2en_run run_gpu run_ct2 run_ct2_cpu ray_gpu
export -f tests_cuda tests_plain

echo "gpu_run.sh in $ROOT at $(date -u +%FT%TZ); OUT_DIR $OUT_DIR; W $W; budget ${BUDGET_S}s"
step facts 30 facts
step doctor 40 doctor
step models 90 models
# gpu_check gets what is left but ~100 s for the steps after it
GC_LIMIT=$(($(left) - 100))
((GC_LIMIT > 240)) && GC_LIMIT=240
((GC_LIMIT < 60)) && GC_LIMIT=60
step gpu_check "$GC_LIMIT" gpu_check "$GC_LIMIT"
step run-gpu 50 run_gpu
step run-ct2 40 run_ct2
if grep -q "FAILED run-ct2" "$SUMMARY" && ! wanted run-ct2-cpu; then
  STEPS="$STEPS run-ct2-cpu"
  step run-ct2-cpu 40 run_ct2_cpu
elif wanted run-ct2-cpu; then
  step run-ct2-cpu 40 run_ct2_cpu
fi
step ray-gpu 60 ray_gpu
step tests-cuda 70 tests_cuda
step tests-plain 40 tests_plain
{
  echo "total $(($(date +%s) - T0))s of a ${BUDGET_S}s budget"
  if [[ -f "$OUT_DIR/gpu_check.json" ]]; then
    echo "gpu_check facts:"
    cat "$OUT_DIR/gpu_check.json"
  fi
} >>"$SUMMARY"
echo
cat "$SUMMARY"
sleep 1 # let tee write the log out
exit 0

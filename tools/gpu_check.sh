#!/usr/bin/env bash
# The GPU checks in one run (about 8 minutes on one 80 GB GPU), one markdown table:
#   1. the paper-size synthetic data (generate_synthetic.py --preset paper, NYU
#      conversion; skipped when up to date);
#   2. the test suite's CUDA-marked tests (`pytest -m cuda`: AMP, CUDA SyncBN, NCCL
#      1-process torchrun);
#   3. the SDPA kernel LG-CAT and SGRE's self-attention actually run, fp32 and
#      autocast (check_sdpa_kernels.py --require-fused: flash / memory-efficient,
#      not math);
#   4. benchmark_train.py's measurement of each method's paper config at its paper
#      per-GPU batch, without and with --amp / --channels-last
#      (benchmark_paper_configs.py --timed): s/iter, torch.cuda.max_memory_allocated
#      against 80 GB, fraction of the measured matmul peak.
#
#   bash tools/gpu_check.sh [--dry-run] [--out gpu_check.md] [--work-dir DIR]
#                           [--data-root DIR] [--budget-s 480]
#
# --dry-run prints every command it would run and the table skeleton, without CUDA
# (and without running anything else). Step 4 stops starting configs when less than
# a config's share of --budget-s is left; the skipped ones are listed in the table.
set -u
cd "$(dirname "$0")/.."

DRY_RUN=0
WORK_DIR=work_dirs/gpu_check
DATA_ROOT=data/synthetic_paper
OUT=""
BUDGET_S=480
PYTHON=${PYTHON:-python}
[ -x .venv/bin/python ] && [ "$PYTHON" = python ] && PYTHON=.venv/bin/python
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --out) OUT=$2; shift ;;
        --work-dir) WORK_DIR=$2; shift ;;
        --data-root) DATA_ROOT=$2; shift ;;
        --budget-s) BUDGET_S=$2; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
OUT=${OUT:-$WORK_DIR/gpu_check.md}

# Each method's paper config (its own per-GPU batch is read from the config).
METHOD_CONFIGS=(
    configs/multitask/resnet50_nyu.py
    configs/dss/maxvit_nyu.py
    configs/fsre/resnet18_kitti.py
    configs/sgre/resnet50_kitti.py
    configs/sosd/xception65_nyu.py
    configs/sdeseg/ssl_ours_resnet101_cityscapes.py
)
VARIANTS=(fp32 amp channels-last amp+channels-last)
TIMED_STEPS=3
MATMUL_SIZE=4096
CONFIG_TIMEOUT_S=150

export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
START=$SECONDS
STATUS=0

# run CMD...: print it; run it unless dry run; remember a failure.
run() {
    printf '+'; printf ' %q' "$@"; printf '\n'
    [ "$DRY_RUN" = 1 ] && return 0
    "$@" || { echo "gpu_check.sh: failed ($?): $*" >&2; STATUS=1; return 1; }
}

if [ "$DRY_RUN" = 0 ]; then
    if ! "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
        echo 'gpu_check.sh: no CUDA device visible (use --dry-run to see the plan)' >&2
        exit 2
    fi
    mkdir -p "$WORK_DIR"
fi

echo "== 1. paper-size synthetic data in $DATA_ROOT"
for dataset in nyu kitti cityscapes; do
    run "$PYTHON" tools/dataset_converters/generate_synthetic.py "$dataset" \
        --preset paper --out "$DATA_ROOT" --workers 8
done
run "$PYTHON" tools/dataset_converters/nyu.py "$DATA_ROOT/nyu/nyu_depth_v2_labeled.mat" \
    "$DATA_ROOT/nyu/splits.mat" --mapping "$DATA_ROOT/nyu/classMapping40.mat" \
    --mapping "$DATA_ROOT/nyu/classMapping13.mat" -o "$DATA_ROOT/nyu_converted"

echo "== 2. CUDA-marked tests"
run "$PYTHON" -m pytest tests -m cuda -q -p no:cacheprovider \
    --junitxml="$WORK_DIR/cuda_tests.xml"

echo "== 3. SDPA kernels of LG-CAT and SA"
run "$PYTHON" tools/analysis_tools/check_sdpa_kernels.py --device cuda \
    --require-fused --json "$WORK_DIR/sdpa_fp32.json"
run "$PYTHON" tools/analysis_tools/check_sdpa_kernels.py --device cuda --amp \
    --require-fused --json "$WORK_DIR/sdpa_amp.json"

echo "== 4. training step of each method's paper config at its paper batch"
TRAIN_JSONS=()
SKIPPED=()
index=0
for config in "${METHOD_CONFIGS[@]}"; do
    index=$((index + 1))
    left=$((BUDGET_S - (SECONDS - START)))
    if [ "$DRY_RUN" = 0 ] && [ "$left" -lt 60 ]; then
        SKIPPED+=("$config")
        continue
    fi
    json="$WORK_DIR/train_$index.json"
    TRAIN_JSONS+=("$json")
    run "$PYTHON" tools/analysis_tools/benchmark_paper_configs.py "$config" \
        --data-root "$DATA_ROOT" --device cuda --timed "$TIMED_STEPS" --warmup 1 \
        --variants "${VARIANTS[@]}" --matmul-size "$MATMUL_SIZE" \
        --timeout "$CONFIG_TIMEOUT_S" --json "$json"
done
[ ${#SKIPPED[@]} -gt 0 ] && echo "skipped (time budget): ${SKIPPED[*]}"

echo "== table"
if [ "$DRY_RUN" = 1 ]; then
    "$PYTHON" tools/analysis_tools/gpu_check_report.py --skeleton \
        --out "${TMPDIR:-/tmp}/gpu_check_skeleton.md" \
        --configs "${METHOD_CONFIGS[@]}" --variants "${VARIANTS[@]}"
    exit 0
fi
merged="$WORK_DIR/train.json"
"$PYTHON" - "$merged" "${TRAIN_JSONS[@]}" "${SKIPPED[@]/#/SKIPPED:}" <<'EOF'
import json, os, sys
rows = []
for path in sys.argv[2:]:
    if path.startswith('SKIPPED:'):
        rows.append(dict(config=path[8:], status='error',
                         error='skipped: the time budget was spent'))
    elif os.path.isfile(path):
        rows += json.load(open(path))
    else:
        rows.append(dict(config=path, status='error', error='no result written'))
json.dump(rows, open(sys.argv[1], 'w'), indent=2)
EOF
name=$("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name(0))')
"$PYTHON" tools/analysis_tools/gpu_check_report.py --out "$OUT" \
    --junit "$WORK_DIR/cuda_tests.xml" \
    --sdpa "$WORK_DIR/sdpa_fp32.json" "$WORK_DIR/sdpa_amp.json" \
    --train "$merged" --device-name "$name" --elapsed-s $((SECONDS - START))
echo "table written to $OUT ($((SECONDS - START)) s)"
exit $STATUS

#!/usr/bin/env bash
# Create (or reuse) the tested Python environment and link it to ./.venv.
#
# The environment lives outside the checkout, under $MMDEPTHSEM_CACHE (default
# ~/.cache/mmdepthsem), in a folder named after a hash of the pinned requirements, so
# fresh clones on the same machine (CI) reuse it instead of paying ~5 GB of downloads and
# a ~17 minute mmcv build each time. A stamp file marks a finished install: a second run
# only re-links the checkout (`pip install -e .`, seconds).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
cache="${MMDEPTHSEM_CACHE:-$HOME/.cache/mmdepthsem}"
req_files=(requirements/build.txt requirements/torch.txt requirements/mminstall.txt
           requirements/runtime.txt requirements/tests.txt)
key="$(cat "${req_files[@]}" | sha256sum | cut -c1-12)"
env_dir="$cache/venv-$key"
stamp="$env_dir/.mmdepthsem-installed"

if [ ! -f "$stamp" ]; then
    echo "[install] building the environment in $env_dir (first time only)"
    rm -rf "$env_dir"
    mkdir -p "$cache"
    "$python" -m venv "$env_dir"
    pip="$env_dir/bin/pip"
    "$pip" install --upgrade pip -r requirements/build.txt
    "$pip" install -r requirements/torch.txt

    # mmcv 2.1.0 has no wheel for this torch: build it once, CPU ops, and keep the wheel
    # keyed by the torch it was compiled against (pip's own cache ignores torch).
    torch_ver="$("$env_dir/bin/python" -c 'import torch; print(torch.__version__)')"
    wheels="$cache/wheels/torch-$torch_ver"
    if ! ls "$wheels"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
        echo "[install] compiling mmcv 2.1.0 with ops against torch $torch_ver (~17 min on 2 cores)"
        mkdir -p "$wheels"
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "$pip" wheel --no-build-isolation \
            --no-deps --no-cache-dir -w "$wheels" mmcv==2.1.0
    fi
    "$pip" install "$wheels"/mmcv-2.1.0-*.whl
    "$pip" install -r requirements/mminstall.txt -r requirements/runtime.txt \
        -r requirements/tests.txt
    "$env_dir/bin/python" -c 'import mmcv.ops, mmseg, timm, torchvision; print("[install] stack imports")'
    touch "$stamp"
fi

ln -sfn "$env_dir" .venv
# Editable install of this checkout; --no-deps keeps it to a few seconds.
.venv/bin/pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null \
    || .venv/bin/pip install --quiet --no-deps --no-build-isolation -e .
echo "[install] ready: $(readlink .venv)"

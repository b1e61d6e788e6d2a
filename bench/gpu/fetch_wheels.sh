#!/usr/bin/env bash
# Here (the CPU machine, with PyPI): every wheel a GPU machine needs beyond its image to run
# vLLM 0.25.0 AND `ocrp worker` -- bench/gpu/wheels.txt (vLLM and what it needs),
# bench/gpu/project_wheels.txt (the project's own dependencies the image lacks) and the project
# itself built as a wheel (its `vllm.general_plugins` entry point must exist there) -- slimmed,
# packed into one tar and split into chunks that each fit one `run` call's carry together with
# the checkout (64 MiB in all; the tracked tree is ~3 MiB).
#
# usage: bash bench/gpu/fetch_wheels.sh         (from anywhere inside the checkout)
# result: .gpu_p1/ .gpu_p2/ ... at the repo root (ignored by .gitignore), each holding one chunk
#         `wheels.tar.partNN`; .gpu_p1/ also holds the tar's sha256. bench/gpu/device_setup.sh
#         joins them on the device. See bench/gpu/DEVICE_PLAN.md for the calls.
set -euo pipefail
ROOT=$(git rev-parse --show-toplevel)
HERE=$(cd "$(dirname "$0")" && pwd)
DL=${DL:-/tmp/gpu_wheels}          # download cache outside the repo (reused between runs)
PART_MIB=${PART_MIB:-52}           # chunk + checkout must stay < 64 MiB per call
# the checkout's venv: its setuptools reads the SPDX `license` field (the system's may not)
DEFAULT_PY=python3
[ -x "$ROOT/.venv/bin/python" ] && DEFAULT_PY="$ROOT/.venv/bin/python"
PY=${PY:-$DEFAULT_PY}
mkdir -p "$DL/vllm" "$DL/project"
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_24_x86_64
      --platform manylinux_2_26_x86_64 --platform manylinux_2_31_x86_64 --platform manylinux_2_34_x86_64
      --platform manylinux_2_35_x86_64 --platform manylinux_2_5_x86_64)

fetch() {  # fetch LIST DIR: every pinned line of LIST as a cp312 manylinux wheel, no deps
  grep -v -E '^\s*(#|$)' "$1" | while read -r spec; do
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${PLAT[@]}" -d "$2" "$spec" 2>&1 | grep -v '^WARNING' || true
  done
}
fetch "$HERE/wheels.txt" "$DL/vllm"
fetch "$HERE/project_wheels.txt" "$DL/project"

SLIM=$DL/slim; rm -rf "$SLIM"; mkdir -p "$SLIM"
cp "$DL"/vllm/*.whl "$DL"/project/*.whl "$SLIM/"
# the project at this checkout's HEAD, as a wheel (no deps: they are the lists above)
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$SLIM" "$ROOT" 2>&1 | grep -v '^WARNING' || true
ls "$SLIM"/ocrp-*.whl >/dev/null
# one version of each distribution, or the device-side install fails
dups=$(ls "$SLIM" | sed -E 's/-[0-9][^-]*-.*//' | tr 'A-Z_' 'a-z-' | sort | uniq -d)
[ -z "$dups" ] || { echo "two versions of: $dups (clean $DL)"; exit 1; }
V=$(ls "$SLIM"/vllm-0.25.0-*.whl)
# FA2 kernels (78 MiB) are unused on sm90 (FA3 is chosen); vllm-rs is the Rust HTTP frontend;
# deep_gemm (FP8 GEMMs) and fmha_sm100 (Blackwell) are unused here
zip -q -d "$V" 'vllm/vllm_flash_attn/_vllm_fa2_C.abi3.so' 'vllm/vllm-rs' \
    'vllm/third_party/deep_gemm/*' 'vllm/third_party/fmha_sm100/*'
X=$(ls "$SLIM"/xgrammar-*.whl)
zip -q -d "$X" 'xgrammar/lib/libxgrammar.a'   # only for building against xgrammar
B=$(ls "$SLIM"/botocore-*.whl)
# botocore carries every AWS service's model (~16 MB compressed); the worker talks to S3 and STS
keep='botocore/data/(s3|sts)/|botocore/data/[^/]+\.json'
drop=$(unzip -Z1 "$B" | grep '^botocore/data/.*/' | grep -v -E "$keep" || true)
[ -z "$drop" ] || printf '%s\n' "$drop" | zip -q -d "$B" -@ >/dev/null

TAR=$DL/wheels.tar
(cd "$SLIM" && tar cf "$TAR" *.whl)
rm -rf "$ROOT"/.gpu_p*
split -b "${PART_MIB}M" -d "$TAR" "$DL/wheels.tar.part"
i=0
for c in "$DL"/wheels.tar.part*; do
  i=$((i+1)); mkdir -p "$ROOT/.gpu_p$i"; mv "$c" "$ROOT/.gpu_p$i/"
done
sha256sum "$TAR" | awk '{print $1}' > "$ROOT/.gpu_p1/wheels.tar.sha256"
ls "$SLIM" > "$ROOT/.gpu_p1/wheels.list"
du -sm "$ROOT"/.gpu_p*/
echo "wheels: $(ls "$SLIM" | wc -l)   parts: $i   tar: $(du -m "$TAR" | cut -f1) MiB"

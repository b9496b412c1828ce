#!/usr/bin/env bash
# Creates .venv and installs the pinned requirements. torch goes FIRST with its exact pin
# (the CPU build on disk); an unpinned torch would pull gigabytes of CUDA wheels.
# Re-running is fast: a stamp file records the requirements hash that was installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
# The Mandarin voice lives in its own venv; a failure there never fails the main install
# (Chinese falls back to espeak-ng). `make test` sets ZH_VOICE_REQUIRED=1 so CI runs its tests.
zh_voice() {
  if ! bash infra/scripts/install-voice-zh.sh; then
    [[ "${ZH_VOICE_REQUIRED:-0}" == 1 ]] && { echo "[install] Mandarin voice install failed" >&2; exit 1; }
    echo "[install] warning: Mandarin voice (.venv-zh) not installed; Chinese uses espeak-ng" >&2
  fi
}
stamp=.venv/.installed-$(sha256sum requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [[ -f "$stamp" ]]; then
  zh_voice
  exit 0
fi
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
torch_pin=$(grep -E '^torch==' requirements.txt)
echo "[install] pip: $torch_pin (first), then requirements.txt"
.venv/bin/pip install -q "$torch_pin"
.venv/bin/pip install -q -r requirements.txt
.venv/bin/pip install -q --no-deps -e .
rm -f .venv/.installed-*
touch "$stamp"
zh_voice

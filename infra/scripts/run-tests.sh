#!/usr/bin/env bash
# Starts throwaway PostgreSQL + Redis, runs pytest against them, always stops them.
set -uo pipefail
cd "$(dirname "$0")/../.."
eval "$(bash infra/scripts/test-services.sh start)" || { echo "could not start PostgreSQL/Redis" >&2; exit 1; }
trap 'bash infra/scripts/test-services.sh stop' EXIT
export DJANGO_SETTINGS_MODULE=config.settings.test
export REQUIRE_SERVICES=1  # tests that need PostgreSQL/Redis fail instead of skipping
start=$(date +%s)
.venv/bin/python -m pytest "$@"
rc=$?
echo "[test] suite wall time: $(( $(date +%s) - start )) s"
if [[ $rc -eq 5 ]]; then
  echo "[test] pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit $rc

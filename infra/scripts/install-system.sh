#!/usr/bin/env bash
# Debian packages the platform needs. Skips apt entirely when everything is present.
# Usage: install-system.sh demo|test
set -euo pipefail
profile="${1:-test}"
pkgs=(ffmpeg espeak-ng libespeak-ng1 fonts-inter fonts-noto-cjk fonts-dejavu-core)
if [[ "$profile" == "test" ]]; then
  # iproute2: `ip netns` for the multi-host harness; wrk: the C load generator of `bench api`
  pkgs+=(postgresql redis-server chromium iproute2 wrk)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "[install] apt: ${missing[*]}"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

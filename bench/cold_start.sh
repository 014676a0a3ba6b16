#!/usr/bin/env bash
# Time from `git clone` to the first printed evaluation table, on a cold pip cache in a fresh venv
# (the README's main job). Usage: bash bench/cold_start.sh [REPO_URL_OR_PATH] [BRANCH] [WORKDIR]
# Prints one line per stage with the seconds since the clone started, and the load before and after.
set -euo pipefail
REPO=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
BRANCH=${2:-$(git -C "$REPO" rev-parse --abbrev-ref HEAD 2>/dev/null || echo main)}
WORK=${3:-$(mktemp -d /tmp/maestromotif-cold.XXXXXX)}
PY=${PYTHON:-python3.11}
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
uptime
cd "$WORK"
git clone -q --branch "$BRANCH" "$REPO" repo && cd repo
stamp "cloned $REPO ($BRANCH) into $WORK/repo"
"$PY" -m venv .venv && . .venv/bin/activate
pip install --no-cache-dir -q -e .
stamp "installed (pip install --no-cache-dir -e .)"
bash setup_nethack.sh
stamp "NetHack set up"
python -m scripts.evaluate --task goldenexit --episodes 20 --num_workers 2
stamp "first evaluation table printed"
uptime

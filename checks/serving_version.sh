#!/usr/bin/env bash
# The serving-version check (checks/serving_version.py): export with the project's
# TensorFlow, serve under the SageMaker container's. Needs the project's venv (make) and
# the internet, or a pip index, for the second venv. Usage:
#   bash checks/serving_version.sh [SERVING_TF_SPEC]   # default tensorflow-cpu==2.20.*
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC="${1:-tensorflow-cpu==2.20.*}"
VENV="${SERVING_VENV:-.venv-serving}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet "$SPEC" pillow
fi
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/python checks/serving_version.py prepare "$WORK"
"$VENV/bin/python" checks/serving_version.py verify "$WORK" --record convlab/deploy/serving_check.json

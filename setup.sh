#!/usr/bin/env bash
# One command from a fresh machine to results: installs Graphviz's `dot` when it
# is missing, creates the virtualenv .venv with journeymap and its test tools,
# then runs the main job on the bundled journeys, writing into outputs/.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dot >/dev/null 2>&1; then
  echo "setup: Graphviz 'dot' not found; installing it with apt-get" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# pm4py is optional for users; the tests use it to read the event log as process-mining tools do
.venv/bin/python -m pip install -q -e '.[test,pm4py]'

.venv/bin/journeymap run journeys/ -o outputs/

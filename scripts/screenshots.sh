#!/usr/bin/env bash
# Regenerate the README screenshots from the current warehouse (build it first): the Dagster UI's asset
# graph (all groups, then the marts with their checks) and the HTML report. Needs Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="${TRADEDEP_DATA_DIR:-$PWD/data}"
export DAGSTER_HOME="${DAGSTER_HOME:-$data_dir/dagster_home}"
port="${PORT:-3999}"
.venv/bin/dagster-webserver -m dagster_project.definitions -h 127.0.0.1 -p "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
until curl -sf "http://127.0.0.1:$port/server_info" >/dev/null; do sleep 1; done
shot() {  # url, window size, output file
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=20000 \
    --window-size="$2" --screenshot="$3" "$1" 2>/dev/null
}
shot "http://127.0.0.1:$port/asset-groups" 1400,700 docs/images/ui-asset-graph.png
shot "http://127.0.0.1:$port/locations/dagster_project.definitions/asset-groups/marts" 1400,900 docs/images/ui-marts.png
shot "file://$data_dir/report/index.html" 1200,2200 docs/images/report.png

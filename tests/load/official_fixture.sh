#!/usr/bin/env bash
# scripts/gatling-official on fixtures/official/RinhaBackendCrebitosSimulation.scala, a simulation
# laid out as the published official file is (class name and `extends Simulation` on separate
# lines, no package): the runner finds the class, Maven compiles the Scala file, and its one
# request is answered OK. Uses port 9999, the address the file has built in.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/common.sh"
answer_help "$@"
summary=$(mktemp /tmp/crebito-official-summary.XXXXXX.json)
trap 'rm -f "$summary"' EXIT

"$root/scripts/gatling-official" "$root/tests/load/fixtures/official/RinhaBackendCrebitosSimulation.scala" \
  --json "$summary"

python3 - "$summary" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
g = s["global"]
print(f"{s['command']}: {g['count']} request(s), {g['ko']} KO")
sys.exit(0 if (g["count"], g["ko"]) == (1, 0) and s["ledger_audit_failures"] == [] else 1)
PY

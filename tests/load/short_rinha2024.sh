#!/usr/bin/env bash
# A short 2024/Q1 run against the real stack (same shape, 5% of the time: about 12 s of load).
# Passes when Gatling saw no KO, there is no fine for inconsistency, every transaction the API
# answered 200 to is a row in the database, no more, no less, and the ledger audit
# (load-test/audit.sql) holds for every account.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/common.sh"
answer_help "$@"
scale=${CREBITO_LOAD_TEST_SCALE:-0.05}
# A free loopback port, so the test never meets a stack someone runs on 9999.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
summary=$(mktemp /tmp/crebito-load-summary.XXXXXX.json)
trap 'rm -f "$summary"' EXIT

"$root/scripts/load" rinha2024 --scale "$scale" --port "$port" --json "$summary"

python3 - "$summary" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
g = s["global"]
problems = []
if g["ko"] != 0:
    problems.append(f"{g['ko']} KO: {g['ko_reasons']}")
if s["money"]["inconsistencies"] != 0:
    problems.append(f"{s['money']['inconsistencies']} inconsistencies")
if s["transactions_committed"] != s["db_transactions_added"]:
    problems.append(f"{s['transactions_committed']} transactions answered 200 but "
                    f"{s['db_transactions_added']} rows were added")
if s.get("ledger_audit_failures") != []:
    problems.append(f"the ledger audit fails for {s.get('ledger_audit_failures')}")
if s["transactions_committed"] == 0:
    problems.append("no transaction was committed")
for p in problems:
    print("FAIL:", p)
print(f"{g['count']} requests, {g['ko']} KO, {s['transactions_committed']} transactions = "
      f"{s['db_transactions_added']} rows")
sys.exit(1 if problems else 0)
PY

"""Postings through a failover, for scripts/test-docker-ha: the client side, then the check.

  python3 ha_postings.py post BASE_URL OUT_JSON -- KILL_COMMAND...
      Client threads post credits and debits (POST /clientes/N/transacoes, each with a description
      of its own) through BASE_URL. Once BEFORE_FAULT of them were answered 200, KILL_COMMAND runs
      (the primary's `docker kill`); the threads keep posting until AFTER_FAILOVER postings sent
      after the kill were answered 200, or FAILOVER_DEADLINE_S passes (then it fails). Every
      posting, with its answer (status, or none), goes to OUT_JSON. Prints the window from the kill
      to the first 200 after it and the longest time with no 200 at all.
  python3 ha_postings.py check OUT_JSON ROWS_FILE
      ROWS_FILE: the rows of the new primary's transactions with this run's descriptions, one
      `description|account_id|amount_cents|kind` a line (psql -A -t). Fails unless every posting
      answered 200 is there exactly once with its account, amount and kind, none answered 422 or
      503 is there, no description is there twice and no row is one this run did not send. Those
      answered 504 or not at all (their outcome unknown to the client) are counted, and resolved
      against the rows: written or not.
"""

import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

THREADS = 4
BEFORE_FAULT = 300          # postings answered 200 before the kill
AFTER_FAILOVER = 200        # postings sent after the kill and answered 200 before the load stops
FAILOVER_DEADLINE_S = 240   # from the kill to the last of AFTER_FAILOVER
BEFORE_DEADLINE_S = 120     # to reach BEFORE_FAULT
REQUEST_TIMEOUT_S = 15      # a posting's own deadline (the instances answer 504 before that)
PAUSE_AFTER_ERROR_S = 0.05  # between a failed posting and the next, on one thread
ACCOUNTS = 5
AMOUNT_MAX = 1000           # cents; small against every limit, so debits rarely meet one
DESCRIPTION_PREFIX = "ha"   # then the posting's number: at most 10 characters in all


def post(base, number, rng):
    account = rng.randint(1, ACCOUNTS)
    kind = "c" if number % 2 == 0 else "d"
    amount = rng.randint(1, AMOUNT_MAX)
    description = f"{DESCRIPTION_PREFIX}{number:08d}"
    body = json.dumps({"valor": amount, "tipo": kind, "descricao": description}).encode()
    request = urllib.request.Request(f"{base}/clientes/{account}/transacoes", data=body,
                                     headers={"Content-Type": "application/json"})
    sent = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, urllib.error.URLError):
        status = None  # no answer: refused, reset or timed out
    return {"description": description, "account": account, "amount": amount, "kind": kind,
            "status": status, "sent": sent, "answered": time.monotonic()}


def run_postings(base, out_path, kill_command):
    lock = threading.Lock()
    postings = []
    next_number = [0]
    stop = threading.Event()
    state = {"kill_at": None, "ok_before": 0, "ok_after": 0}

    def worker(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            with lock:
                number = next_number[0]
                next_number[0] += 1
            p = post(base, number, rng)
            with lock:
                postings.append(p)
                if p["status"] == 200:
                    if state["kill_at"] is None:
                        state["ok_before"] += 1
                    elif p["sent"] > state["kill_at"]:
                        state["ok_after"] += 1
            if p["status"] != 200:
                time.sleep(PAUSE_AFTER_ERROR_S)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    failure = None
    try:
        while True:
            with lock:
                if state["ok_before"] >= BEFORE_FAULT:
                    break
            if time.monotonic() - started > BEFORE_DEADLINE_S:
                failure = f"fewer than {BEFORE_FAULT} postings answered 200 in {BEFORE_DEADLINE_S} s"
                break
            time.sleep(0.01)
        if failure is None:
            subprocess.run(kill_command, check=True, stdout=subprocess.DEVNULL)
            with lock:  # the primary is gone: from here on a 200 comes from the new one
                state["kill_at"] = time.monotonic()
            while True:
                with lock:
                    if state["ok_after"] >= AFTER_FAILOVER:
                        break
                if time.monotonic() - state["kill_at"] > FAILOVER_DEADLINE_S:
                    failure = (f"only {state['ok_after']} postings sent after the kill were "
                               f"answered 200 within {FAILOVER_DEADLINE_S} s")
                    break
                time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()

    kill_at = state["kill_at"]
    oks = sorted(p["answered"] for p in postings if p["status"] == 200)
    gaps = [b - a for a, b in zip(oks, oks[1:])]
    after = [p["answered"] for p in postings
             if p["status"] == 200 and kill_at is not None and p["sent"] > kill_at]
    summary = {
        "postings": len(postings),
        "by_status": {},
        "window_s": (min(after) - kill_at) if after else None,
        "longest_gap_s": max(gaps) if gaps else None,
        "failure": failure,
    }
    for p in postings:
        key = str(p["status"]) if p["status"] is not None else "none"
        summary["by_status"][key] = summary["by_status"].get(key, 0) + 1
    with open(out_path, "w") as f:
        json.dump({"summary": summary, "postings": postings}, f)
    statuses = ", ".join(f"{n} x {s}" for s, n in sorted(summary["by_status"].items()))
    print(f"postings {len(postings)} ({statuses})")
    if summary["window_s"] is not None:
        print(f"window {summary['window_s']:.2f} s from the kill to the first 200 of a posting sent "
              f"after it; longest time with no 200 {summary['longest_gap_s']:.2f} s")
    if failure:
        sys.exit(f"error: {failure}")


def check(out_path, rows_path):
    with open(out_path) as f:
        postings = json.load(f)["postings"]
    rows = {}
    problems = []
    with open(rows_path) as f:
        for line in f:
            if not line.strip():
                continue
            description, account, amount, kind = line.rstrip("\n").split("|")
            if description in rows:
                problems.append(f"{description} is there twice")
            rows[description] = (int(account), int(amount), kind)
    sent = {p["description"]: p for p in postings}
    for description in rows:
        if description not in sent:
            problems.append(f"{description} is there but was never sent")
    confirmed = unknown_written = unknown_absent = 0
    for p in postings:
        row = rows.get(p["description"])
        want = (p["account"], p["amount"], p["kind"])
        if p["status"] == 200:
            confirmed += 1
            if row is None:
                problems.append(f"{p['description']} was answered 200 and is missing")
            elif row != want:
                problems.append(f"{p['description']} is there as {row}, was sent as {want}")
        elif p["status"] in (422, 503):
            if row is not None:
                problems.append(f"{p['description']} was answered {p['status']} and is there")
        elif row is None:
            unknown_absent += 1
        elif row != want:
            problems.append(f"{p['description']} is there as {row}, was sent as {want}")
        else:
            unknown_written += 1
    for problem in problems[:20]:
        print(f"    {problem}", file=sys.stderr)
    print(f"{confirmed} postings answered 200, each there exactly once; "
          f"{unknown_written + unknown_absent} with no definite answer "
          f"({unknown_written} written, {unknown_absent} not)")
    sys.exit(1 if problems else 0)


def main(argv):
    if len(argv) >= 2 and argv[1] in ("-h", "--help"):
        print(__doc__)
        return
    if len(argv) >= 5 and argv[1] == "post" and argv[4] == "--":
        run_postings(argv[2], argv[3], argv[5:])
    elif len(argv) == 4 and argv[1] == "check":
        check(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

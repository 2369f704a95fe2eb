#!/usr/bin/env python3
"""Summaries of crebito's load runs, and the Rinha de Backend 2024/Q1 money result.

Reads what the tools wrote and nothing else (Python standard library only):

- a Gatling report folder (`js/stats.json`, `simulation.log`) -> per request group and globally:
  count, OK, KO with reasons, min/p50/p75/p95/p99/max ms (p99.9 from the log), mean, req/s; and
  the challenge's payment, computed exactly as the official `generateResults()` did
  (docs/CHALLENGES.md §1): USD 100,000 minus the SLA fine (98% of all requests must be
  OK and under 250 ms, from stats.json group1) and USD 803.01 per simulation.log line that matches
  an inconsistency check;
- the JSON lines our wrk script prints, one per capacity step -> the highest sustained rate.

Usage:
  summary.py gatling REPORT_DIR [--counts FILE] [--db-rows-added N] [--meta JSON] [--json OUT]
  summary.py capacity STEPS_JSONL --p99-ms B [--meta JSON] [--json OUT]
  summary.py medians SUMMARY_JSON...   (the median of several runs' summaries, one profile)
Prints a readable summary on stdout; --json writes the machine-readable one.
"""

import argparse
import collections
import decimal
import json
import math
import os
import sys

# The contract's constants, as in the official results script.
CONTRACT_VALUE_USD = decimal.Decimal("100000.00")
SLA_OK_PERCENT = decimal.Decimal("98.0")
SLA_FINE_PER_POINT_USD = decimal.Decimal("1000")
INCONSISTENCY_FINE_USD = decimal.Decimal("803.01")
# Every simulation.log line holding one of these is one fined inconsistency (grep -c of each).
INCONSISTENCY_MARKERS = ("ConsistenciaSaldoLimite", "jmesPath(saldo.total).find.is")

GROUP_ORDER = ("validações", "débitos", "créditos", "extratos")


def _cents(value):
    return decimal.Decimal(value).quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


def find_report_dir(path):
    """Accepts a report folder itself or a results folder holding exactly one report."""
    if os.path.exists(os.path.join(path, "js", "stats.json")):
        return path
    candidates = sorted(
        os.path.join(path, name)
        for name in os.listdir(path)
        if os.path.exists(os.path.join(path, name, "js", "stats.json"))
    )
    if not candidates:
        raise FileNotFoundError(f"no Gatling report (js/stats.json) under {path}")
    return candidates[-1]


# stats.json's percentiles1..4 are the percentiles gatling.conf asks for (indicators.percentile1..4).
GATLING_PERCENTILES = (50, 75, 95, 99)

# Our figure name -> where stats.json keeps it: (Gatling's key, "total"/"ok"/"ko"/"count").
GROUP_FIGURES = (
    (
        ("count", "numberOfRequests", "total"),
        ("ok", "numberOfRequests", "ok"),
        ("ko", "numberOfRequests", "ko"),
        ("min_ms", "minResponseTime", "total"),
    )
    + tuple((f"p{p}_ms", f"percentiles{n}", "total") for n, p in enumerate(GATLING_PERCENTILES, 1))
    + (
        ("max_ms", "maxResponseTime", "total"),
        ("mean_ms", "meanResponseTime", "total"),
        ("req_per_s", "meanNumberOfRequestsPerSecond", "total"),
        ("ok_under_250ms", "group1", "count"),
    )
)


def group_stats(stats):
    """One stats.json `stats` object -> our flat per-group figures (ms, integers as Gatling gives)."""
    return {name: stats[key][part] for name, key, part in GROUP_FIGURES}


def read_requests(simulation_log):
    """From the REQUEST records of simulation.log (Gatling 3.10 text): request name ->
    Counter(message) of its KOs, and request name -> list of response times in ms."""
    reasons = collections.defaultdict(collections.Counter)
    times = collections.defaultdict(list)
    with open(simulation_log, encoding="utf-8", errors="replace") as log:
        for line in log:
            if not line.startswith("REQUEST\t"):
                continue
            # REQUEST, groups, name, start, end, OK|KO, message
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 6:
                continue
            times[fields[2]].append(int(fields[4]) - int(fields[3]))
            if fields[5] == "KO":
                message = fields[6] if len(fields) > 6 else ""
                reasons[fields[2]][message] += 1
    return reasons, times


def percentile_nearest_rank(values, fraction):
    """The smallest value with at least `fraction` of all values at or below it; None if empty.
    Gatling's stats.json stops at p99; p99.9 comes from the log with this definition."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def count_inconsistencies(simulation_log):
    """Sum over the markers of the number of lines containing it (what `grep -c` counts)."""
    counts = {marker: 0 for marker in INCONSISTENCY_MARKERS}
    with open(simulation_log, encoding="utf-8", errors="replace") as log:
        for line in log:
            for marker in INCONSISTENCY_MARKERS:
                if marker in line:
                    counts[marker] += 1
    return counts


def money(total_requests, ok_under_250ms, inconsistencies):
    """The 2024/Q1 payment for one supplier, from Gatling's totals; amounts in USD as strings."""
    if total_requests > 0:
        pct = (decimal.Decimal(ok_under_250ms) * 100 / decimal.Decimal(total_requests)).quantize(
            decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP
        )
    else:
        pct = decimal.Decimal("0.00")
    sla_fine = max(decimal.Decimal(0), (SLA_OK_PERCENT - pct) * SLA_FINE_PER_POINT_USD)
    inconsistency_fine = INCONSISTENCY_FINE_USD * inconsistencies
    total_fine = sla_fine + inconsistency_fine
    payment = max(decimal.Decimal(0), CONTRACT_VALUE_USD - total_fine)
    return {
        "total_requests": total_requests,
        "ok_under_250ms": ok_under_250ms,
        "pct_ok_under_250ms": str(pct),
        "sla_fine_usd": str(_cents(sla_fine)),
        "inconsistencies": inconsistencies,
        "inconsistency_fine_usd": str(_cents(inconsistency_fine)),
        "total_fine_usd": str(_cents(total_fine)),
        "payment_usd": str(_cents(payment)),
    }


def summarize_gatling(report_dir, counts=None, db_rows_added=None, meta=None):
    report_dir = find_report_dir(report_dir)
    with open(os.path.join(report_dir, "js", "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    log_path = os.path.join(report_dir, "simulation.log")
    reasons, times = read_requests(log_path)

    groups = {}
    for entry in stats.get("contents", {}).values():
        name = entry["name"]
        groups[name] = group_stats(entry["stats"])
        groups[name]["p999_ms"] = percentile_nearest_rank(times.get(name, []), 0.999)
        groups[name]["ko_reasons"] = dict(reasons.get(name, collections.Counter()).most_common())
    ordered = {name: groups[name] for name in GROUP_ORDER if name in groups}
    ordered.update({name: g for name, g in sorted(groups.items()) if name not in ordered})

    overall = group_stats(stats["stats"])
    overall["p999_ms"] = percentile_nearest_rank([t for per_name in times.values() for t in per_name], 0.999)
    all_reasons = collections.Counter()
    for per_name in reasons.values():
        all_reasons.update(per_name)
    overall["ko_reasons"] = dict(all_reasons.most_common())

    markers = count_inconsistencies(log_path)
    result = {
        "profile": "rinha2024",
        "report_dir": report_dir,
        "report_html": os.path.join(report_dir, "index.html"),
        "global": overall,
        "groups": ordered,
        "inconsistency_lines": markers,
        "money": money(overall["count"], overall["ok_under_250ms"], sum(markers.values())),
    }
    if counts is not None:
        # POST answers by status, as the simulation counted them; 200 = a committed transaction.
        result["post_status_counts"] = counts
        result["transactions_committed"] = sum(int(by.get("200", 0)) for by in counts.values())
    if db_rows_added is not None:
        result["db_transactions_added"] = db_rows_added
    if meta:
        result.update(meta)
    return result


def step_errors(step):
    """A wrk step's errors: socket errors and answers other than 200/422."""
    return step["errors_status"] + sum(step["errors_socket"].values())


def step_sustained(step, p99_bound_ms):
    """A wrk step is sustained when it has no error and p99 <= the bound."""
    return step_errors(step) == 0 and step["latency_us"]["p99"] <= p99_bound_ms * 1000


def summarize_capacity(steps, p99_bound_ms, meta=None):
    """steps: wrk JSON lines in the order run. A step is sustained when it has no error (socket
    error or status other than 200/422) and p99 <= the bound; the result is the best such rate."""
    rows = []
    for step in steps:
        errors = step_errors(step)
        rows.append(
            {
                "connections": step["connections"],
                "duration_s": round(step["duration_us"] / 1e6, 2),
                "requests": step["requests"],
                "req_per_s": round(step["requests"] / (step["duration_us"] / 1e6), 1),
                "status_200": step["status_200"],
                "status_422": step["status_422"],
                "errors": errors,
                "p50_ms": round(step["latency_us"]["p50"] / 1000, 2),
                "p99_ms": round(step["latency_us"]["p99"] / 1000, 2),
                "max_ms": round(step["latency_us"]["max"] / 1000, 2),
                "sustained": step_sustained(step, p99_bound_ms),
            }
        )
    best = max((r for r in rows if r["sustained"]), key=lambda r: r["req_per_s"], default=None)
    result = {
        "profile": "capacity",
        "p99_bound_ms": p99_bound_ms,
        "steps": rows,
        "max_sustained_req_per_s": best["req_per_s"] if best else 0,
        "max_sustained_at_connections": best["connections"] if best else None,
    }
    if meta:
        result.update(meta)
    return result


def format_gatling(result):
    lines = []
    title = f"{result['profile']} — {result['report_html']}"
    lines.append(title)
    header = f"{'group':<12}{'count':>7}{'OK':>7}{'KO':>6}{'min':>6}{'p50':>6}{'p75':>6}{'p95':>6}{'p99':>6}{'p99.9':>7}{'max':>7}{'mean':>6}{'req/s':>8}"
    lines.append(header + "   (ms)")
    rows = list(result["groups"].items()) + [("global", result["global"])]
    for name, g in rows:
        lines.append(
            f"{name:<12}{g['count']:>7}{g['ok']:>7}{g['ko']:>6}{g['min_ms']:>6}{g['p50_ms']:>6}"
            f"{g['p75_ms']:>6}{g['p95_ms']:>6}{g['p99_ms']:>6}{str(g.get('p999_ms', '-')):>7}{g['max_ms']:>7}{g['mean_ms']:>6}{float(g['req_per_s']):>8.1f}"
        )
    for name, g in result["groups"].items():
        for message, n in g["ko_reasons"].items():
            lines.append(f"KO {name}: {n} × {message}")
    m = result["money"]
    lines.append(
        f"money: {m['pct_ok_under_250ms']}% OK under 250 ms -> SLA fine USD {m['sla_fine_usd']}; "
        f"{m['inconsistencies']} inconsistencies -> USD {m['inconsistency_fine_usd']}; "
        f"payment USD {m['payment_usd']} of {CONTRACT_VALUE_USD}"
    )
    if "transactions_committed" in result:
        lines.append(f"transactions: {result['transactions_committed']} answered 200")
    if "db_transactions_added" in result:
        lines.append(f"database: {result['db_transactions_added']} transaction rows added")
    return "\n".join(lines)


def format_capacity(result):
    lines = [f"capacity — p99 bound {result['p99_bound_ms']} ms, one wrk thread, official mix 220:110:10"]
    lines.append(f"{'conns':>6}{'req/s':>10}{'requests':>10}{'200':>9}{'422':>9}{'errors':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  sustained")
    for r in result["steps"]:
        lines.append(
            f"{r['connections']:>6}{r['req_per_s']:>10}{r['requests']:>10}{r['status_200']:>9}{r['status_422']:>9}"
            f"{r['errors']:>7}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}  {'yes' if r['sustained'] else 'no'}"
        )
    if result["max_sustained_at_connections"] is None:
        lines.append("no step sustained the bound")
    else:
        lines.append(
            f"highest sustained: {result['max_sustained_req_per_s']} req/s "
            f"at {result['max_sustained_at_connections']} connections"
        )
    return "\n".join(lines)


def medians(results):
    """The per-figure median over several summaries of one profile (runs on a noisy machine)."""
    import statistics

    profiles = {r["profile"] for r in results}
    if len(profiles) != 1:
        raise ValueError(f"summaries of several profiles: {sorted(profiles)}")
    out = {"profile": profiles.pop(), "runs": len(results)}
    if out["profile"] == "capacity":
        for key in ("max_sustained_req_per_s",):
            out[key] = statistics.median(r[key] for r in results)
        return out
    for key in ("count", "ko", "p50_ms", "p75_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms", "req_per_s"):
        values = [r["global"][key] for r in results if r["global"].get(key) is not None]
        out[key] = statistics.median(values) if values else None
    out["pct_ok_under_250ms"] = statistics.median(float(r["money"]["pct_ok_under_250ms"]) for r in results)
    out["inconsistencies"] = statistics.median(r["money"]["inconsistencies"] for r in results)
    out["payment_usd"] = statistics.median(float(r["money"]["payment_usd"]) for r in results)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    g = sub.add_parser("gatling")
    g.add_argument("report_dir")
    g.add_argument("--counts", help="the simulation's countsFile (POST answers by status)")
    g.add_argument("--db-rows-added", type=int)
    g.add_argument("--meta", help="JSON object merged into the summary (command, machine, ...)")
    g.add_argument("--json", dest="json_out")
    c = sub.add_parser("capacity")
    c.add_argument("steps_jsonl")
    c.add_argument("--p99-ms", type=float, required=True)
    c.add_argument("--meta")
    c.add_argument("--json", dest="json_out")
    m = sub.add_parser("medians")
    m.add_argument("summaries", nargs="+")
    args = parser.parse_args(argv)

    if args.kind == "medians":
        loaded = []
        for path in args.summaries:
            with open(path, encoding="utf-8") as f:
                loaded.append(json.load(f))
        print(json.dumps(medians(loaded), ensure_ascii=False))
        return 0

    meta = json.loads(args.meta) if args.meta else None
    if args.kind == "gatling":
        counts = None
        if args.counts and os.path.exists(args.counts):
            with open(args.counts, encoding="utf-8") as f:
                counts = json.load(f)
        result = summarize_gatling(args.report_dir, counts, args.db_rows_added, meta)
        text = format_gatling(result)
    else:
        with open(args.steps_jsonl, encoding="utf-8") as f:
            steps = [json.loads(line) for line in f if line.strip()]
        result = summarize_capacity(steps, args.p99_ms, meta)
        text = format_capacity(result)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=2)
            f.write("\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Unit tests of load-test/summary.py: figures and the 2024/Q1 money result from recorded runs.

fixtures/clean:  our stack, scripts/load rinha2024 --scale 0.01 (633 requests, 0 KO).
fixtures/faulty: the same simulation against a deliberately broken in-memory server (lost update
                 on the -25 check, balances past the limit, unparsable saldo, 500s, slow answers),
                 so every fine has something to count. The expected figures below were read off
                 the files by hand (grep -c, stats.json), not computed by the code under test.
"""

import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "..", "load-test"))
import summary  # noqa: E402

CLEAN = os.path.join(HERE, "fixtures", "clean")
FAULTY = os.path.join(HERE, "fixtures", "faulty")


def load_counts(folder):
    with open(os.path.join(folder, "post-status-counts.json"), encoding="utf-8") as f:
        return json.load(f)


class MoneyTest(unittest.TestCase):
    def test_full_payment_at_or_above_98_percent(self):
        m = summary.money(1000, 980, 0)
        self.assertEqual(m["pct_ok_under_250ms"], "98.00")
        self.assertEqual(m["sla_fine_usd"], "0.00")
        self.assertEqual(m["payment_usd"], "100000.00")

    def test_sla_fine_is_1000_per_point_below_98(self):
        m = summary.money(10000, 9650, 0)  # 96.50%
        self.assertEqual(m["sla_fine_usd"], "1500.00")
        self.assertEqual(m["payment_usd"], "98500.00")

    def test_percentage_rounds_to_two_decimals_before_the_fine(self):
        # 97.996...% rounds to 98.00%: no fine; 97.994...% rounds to 97.99%: USD 10.
        self.assertEqual(summary.money(100000, 97996, 0)["sla_fine_usd"], "0.00")
        self.assertEqual(summary.money(100000, 97994, 0)["sla_fine_usd"], "10.00")

    def test_each_inconsistency_costs_803_01(self):
        m = summary.money(61503, 61503, 3)
        self.assertEqual(m["inconsistency_fine_usd"], "2409.03")
        self.assertEqual(m["payment_usd"], "97590.97")

    def test_payment_never_negative(self):
        m = summary.money(61503, 0, 200)
        self.assertEqual(m["payment_usd"], "0.00")

    def test_no_requests_means_no_sla_met(self):
        m = summary.money(0, 0, 0)
        self.assertEqual(m["sla_fine_usd"], "98000.00")


class PercentileTest(unittest.TestCase):
    def test_nearest_rank(self):
        values = list(range(1, 2001))  # 1..2000 ms
        self.assertEqual(summary.percentile_nearest_rank(values, 0.999), 1998)
        self.assertEqual(summary.percentile_nearest_rank(values, 0.5), 1000)
        self.assertEqual(summary.percentile_nearest_rank([7, 3, 5], 0.999), 7)
        self.assertIsNone(summary.percentile_nearest_rank([], 0.999))


class RecordedGatlingRunTest(unittest.TestCase):
    def test_clean_run(self):
        r = summary.summarize_gatling(CLEAN, load_counts(CLEAN), db_rows_added=542)
        g = r["global"]
        self.assertEqual((g["count"], g["ok"], g["ko"]), (633, 633, 0))
        self.assertEqual(g["p99_ms"], 120)
        self.assertEqual(g["max_ms"], 205)
        # p99.9 from simulation.log: with fewer than 1000 requests it is the slowest one.
        self.assertEqual(g["p999_ms"], 205)
        self.assertEqual(r["groups"]["débitos"]["p999_ms"], 14)
        self.assertEqual(r["groups"]["extratos"]["p999_ms"], 8)
        self.assertEqual(g["ko_reasons"], {})
        self.assertEqual(list(r["groups"]), ["validações", "débitos", "créditos", "extratos"])
        self.assertEqual([r["groups"][n]["count"] for n in r["groups"]], [123, 330, 165, 15])
        self.assertEqual(r["money"]["pct_ok_under_250ms"], "100.00")
        self.assertEqual(r["money"]["inconsistencies"], 0)
        self.assertEqual(r["money"]["payment_usd"], "100000.00")
        # 65 validation transactions + 312 debits + 165 credits answered 200.
        self.assertEqual(r["transactions_committed"], 542)
        self.assertEqual(r["db_transactions_added"], 542)

    def test_faulty_run_fines(self):
        r = summary.summarize_gatling(FAULTY, load_counts(FAULTY))
        g = r["global"]
        self.assertEqual((g["count"], g["ok"], g["ko"]), (633, 620, 13))
        # grep -c ConsistenciaSaldoLimite -> 9; grep -c 'jmesPath(saldo.total).find.is' -> 3.
        self.assertEqual(r["inconsistency_lines"], {"ConsistenciaSaldoLimite": 9, "jmesPath(saldo.total).find.is": 3})
        m = r["money"]
        # stats.json group1 = 590 of 633 = 93.21% -> (98 - 93.21) x 1000 = 4790.
        self.assertEqual((m["ok_under_250ms"], m["pct_ok_under_250ms"]), (590, "93.21"))
        self.assertEqual(m["sla_fine_usd"], "4790.00")
        self.assertEqual(m["inconsistency_fine_usd"], "9636.12")
        self.assertEqual(m["total_fine_usd"], "14426.12")
        self.assertEqual(m["payment_usd"], "85573.88")

    def test_faulty_run_ko_reasons_per_group(self):
        r = summary.summarize_gatling(FAULTY)
        groups = r["groups"]
        self.assertEqual(sum(groups[n]["ko"] for n in groups), 13)
        for name, g in groups.items():
            self.assertEqual(sum(g["ko_reasons"].values()), g["ko"], name)
        self.assertEqual(groups["débitos"]["ko_reasons"]["status.find.in(200,422), but actually found 500"], 1)
        self.assertEqual(groups["validações"]["ko_reasons"]["jmesPath(saldo.total).find.is(-25), but actually found -24"], 1)
        self.assertNotIn("transactions_committed", r)  # no counts given

    def test_cli_writes_json_and_prints_money(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "s.json")
            buffer = io.StringIO()
            with redirect_stdout(buffer):
                rc = summary.main(["gatling", FAULTY, "--counts", os.path.join(FAULTY, "post-status-counts.json"),
                                   "--meta", '{"scale": 0.01}', "--json", out])
            self.assertEqual(rc, 0)
            with open(out, encoding="utf-8") as f:
                written = json.load(f)
            self.assertEqual(written["money"]["payment_usd"], "85573.88")
            self.assertEqual(written["scale"], 0.01)
            self.assertEqual(written["transactions_committed"], 298 + 165 + 65)
            self.assertIn("payment USD 85573.88", buffer.getvalue())


class MediansTest(unittest.TestCase):
    def test_median_of_recorded_runs(self):
        clean = summary.summarize_gatling(CLEAN)
        faulty = summary.summarize_gatling(FAULTY)
        m = summary.medians([clean, faulty, clean])
        self.assertEqual(m["runs"], 3)
        self.assertEqual(m["p99_ms"], 120)  # 120, 1262, 120
        self.assertEqual(m["payment_usd"], 100000.0)

    def test_profiles_are_not_mixed(self):
        with self.assertRaises(ValueError):
            summary.medians([summary.summarize_gatling(CLEAN), {"profile": "capacity"}])


def wrk_step(connections, requests, p99_us, errors_status=0, timeouts=0):
    return {
        "connections": connections, "threads": 1, "duration_us": 10_000_000, "requests": requests,
        "status_200": requests - errors_status, "status_422": 0, "errors_status": errors_status,
        "errors_socket": {"connect": 0, "read": 0, "write": 0, "timeout": timeouts},
        "latency_us": {"min": 50, "p50": p99_us // 4, "p75": p99_us // 2, "p90": p99_us // 2,
                       "p99": p99_us, "p999": p99_us, "max": p99_us * 2, "mean": p99_us / 4},
    }


class CapacityTest(unittest.TestCase):
    def test_highest_rate_within_bound_wins(self):
        steps = [wrk_step(1, 20_000, 900), wrk_step(2, 40_000, 2_000), wrk_step(4, 60_000, 30_000)]
        r = summary.summarize_capacity(steps, p99_bound_ms=25)
        self.assertEqual(r["max_sustained_req_per_s"], 4000.0)
        self.assertEqual(r["max_sustained_at_connections"], 2)
        self.assertEqual([s["sustained"] for s in r["steps"]], [True, True, False])

    def test_a_step_with_errors_is_not_sustained(self):
        steps = [wrk_step(1, 20_000, 900), wrk_step(2, 40_000, 900, errors_status=1), wrk_step(4, 50_000, 900, timeouts=1)]
        r = summary.summarize_capacity(steps, p99_bound_ms=25)
        self.assertEqual(r["max_sustained_at_connections"], 1)

    def test_nothing_sustained(self):
        r = summary.summarize_capacity([wrk_step(1, 100, 90_000)], p99_bound_ms=25)
        self.assertIsNone(r["max_sustained_at_connections"])
        self.assertEqual(r["max_sustained_req_per_s"], 0)
        self.assertIn("no step sustained", summary.format_capacity(r))


if __name__ == "__main__":
    unittest.main()

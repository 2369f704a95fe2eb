#!/usr/bin/env python3
"""Unit tests of load-test/driver.py's pure parts: options, the official file's class, result
folder names, metadata, the rinha2025 summary and the ledger audit (on a real SQLite file made
from schema.sql). Nothing here starts a stack."""

import datetime
import os
import sqlite3
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "load-test"))
import driver  # noqa: E402

OFFICIAL_FIXTURE = os.path.join(HERE, "fixtures", "official", "RinhaBackendCrebitosSimulation.scala")
WHEN = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)
TARGET = ["--target", "win25", "--target-start", "peer start", "--target-stop", "peer stop",
          "--target-port", "9990"]


def parse(*argv, **env):
    return driver.parse_args(list(argv), env)


class OptionsTest(unittest.TestCase):
    def test_defaults(self):
        o = parse("rinha2024")
        self.assertEqual((o.profile, o.scale, o.limits, o.port, o.json_out), ("rinha2024", 1.0, False, 9999, None))
        self.assertEqual((o.p99_ms, o.max_requests), (25.0, 603))
        self.assertIsNone(o.target)

    def test_port_from_environment_and_option(self):
        self.assertEqual(parse("capacity", CREBITO_PORT="19999").port, 19999)
        self.assertEqual(parse("capacity", "--port", "18000", CREBITO_PORT="19999").port, 18000)
        with self.assertRaises(driver.UsageError):
            parse("capacity", CREBITO_PORT="x")
        with self.assertRaises(driver.UsageError):
            parse("capacity", "--port", "99999")

    def test_every_option_of_every_profile(self):
        o = parse("rinha2025", "--scale", "0.2", "--limits", "--json", "out.json", "--port", "9000",
                  "--max-requests", "100")
        self.assertEqual((o.scale, o.limits, o.port, o.max_requests), (0.2, True, 9000, 100))
        self.assertEqual(o.json_out, os.path.abspath("out.json"))
        self.assertEqual(parse("capacity", "--p99-ms", "10").p99_ms, 10.0)
        o = parse("official", "--simulation", OFFICIAL_FIXTURE, "--port", "9999")
        self.assertEqual(o.simulation, os.path.abspath(OFFICIAL_FIXTURE))

    def test_scale_must_be_in_range(self):
        for bad in ("0", "-1", "10.5", "x"):
            with self.assertRaises(driver.UsageError, msg=bad):
                parse("rinha2024", "--scale", bad)
        self.assertEqual(parse("rinha2024", "--scale", "10").scale, 10.0)

    def test_options_of_another_profile_are_refused(self):
        for argv in (("rinha2024", "--max-requests", "5"), ("rinha2025", "--p99-ms", "3"),
                     ("capacity", "--simulation", OFFICIAL_FIXTURE), ("rinha2024", "--bogus"), ("nope",)):
            with self.assertRaises(driver.UsageError, msg=argv):
                parse(*argv)

    def test_official_needs_an_existing_file(self):
        with self.assertRaises(driver.UsageError):
            parse("official")
        with self.assertRaises(driver.UsageError):
            parse("official", "--simulation", "/nonexistent.scala")

    def test_target(self):
        o = parse("rinha2025", "--scale", "0.05", *TARGET, "--target-pids", "pids")
        self.assertEqual((o.target, o.target_start, o.target_stop, o.port), ("win25", "peer start", "peer stop", 9990))
        self.assertEqual(o.target_pids, os.path.abspath("pids"))
        self.assertFalse(driver.keeps_ledger(o))
        self.assertEqual(driver.stack_name(o), "win25")

    def test_target_needs_its_commands_and_port(self):
        for drop in ("--target-start", "--target-stop", "--target-port"):
            i = TARGET.index(drop)
            with self.assertRaises(driver.UsageError, msg=drop):
                parse("rinha2024", *(TARGET[:i] + TARGET[i + 2:]))
        with self.assertRaises(driver.UsageError):
            parse("rinha2024", "--target-port", "9990")  # without --target

    def test_target_refusals(self):
        with self.assertRaises(driver.UsageError):
            parse("rinha2024", *TARGET, "--limits")
        with self.assertRaises(driver.UsageError):
            parse("official", "--simulation", OFFICIAL_FIXTURE, *TARGET)
        for name in ("crebito", "crebito-null", "a b", "../x", ""):
            argv = list(TARGET)
            argv[1] = name
            with self.assertRaises(driver.UsageError, msg=name):
                parse("rinha2024", *argv)

    def test_null_server_keeps_no_ledger(self):
        self.assertTrue(driver.keeps_ledger(parse("rinha2024")))
        o = parse("rinha2024", CREBITO_SERVER_BINARY="build/crebito-null")
        self.assertFalse(driver.keeps_ledger(o))
        self.assertEqual(driver.stack_name(o), "crebito-null")


class CommandLineTest(unittest.TestCase):
    def test_as_recorded(self):
        self.assertEqual(driver.command_line(parse("rinha2024", "--scale", "0.1", "--limits")),
                         "scripts/load rinha2024 --scale 0.1 --limits")
        self.assertEqual(driver.command_line(parse("capacity", "--p99-ms", "10")),
                         "scripts/load capacity --scale 1 --p99-ms 10")
        self.assertEqual(driver.command_line(parse("rinha2025", "--max-requests", "60", *TARGET)),
                         "scripts/load rinha2025 --scale 1 --max-requests 60 --target win25")
        self.assertEqual(driver.command_line(parse("official", "--simulation", OFFICIAL_FIXTURE)),
                         "scripts/gatling-official RinhaBackendCrebitosSimulation.scala")


class ResultsFolderTest(unittest.TestCase):
    def test_names(self):
        self.assertEqual(driver.results_dir_name("rinha2024", WHEN), "rinha2024-20260304T050607Z")
        self.assertEqual(driver.results_dir_name("rinha2025", WHEN, "win25"), "rinha2025-win25-20260304T050607Z")

    def test_stamp_is_utc(self):
        local = WHEN.astimezone(datetime.timezone(datetime.timedelta(hours=-3)))
        self.assertEqual(driver.results_dir_name("capacity", local), "capacity-20260304T050607Z")


class MetadataTest(unittest.TestCase):
    def test_fields(self):
        machine = {"nproc": 2, "cpu_model": "x", "kernel": "k", "loadavg_1m_at_start": 0.5}
        m = driver.metadata(parse("rinha2025", "--scale", "0.2", *TARGET), "abc123-dirty", machine, WHEN)
        self.assertEqual(m, {
            "profile": "rinha2025", "command": "scripts/load rinha2025 --scale 0.2 --target win25",
            "stack": "win25", "revision": "abc123-dirty", "date_utc": "2026-03-04T05:06:07Z",
            "machine": machine, "scale": 0.2, "limits": False, "port": 9990,
        })

    def test_machine_info(self):
        m = driver.machine_info()
        self.assertEqual(set(m), {"nproc", "cpu_model", "kernel", "loadavg_1m_at_start"})


class SimulationClassTest(unittest.TestCase):
    def test_the_official_layout(self):
        with open(OFFICIAL_FIXTURE, encoding="utf-8") as f:
            self.assertEqual(driver.simulation_class(f.read()), "RinhaBackendCrebitosSimulation")

    def test_one_line_with_package(self):
        text = "package rinha.backend\n\nclass Sim extends Simulation {\n}\n"
        self.assertEqual(driver.simulation_class(text), "rinha.backend.Sim")

    def test_chained_packages_parameters_and_qualified_parent(self):
        text = ("package a\npackage b.c\n\nfinal class Sim[T](x: Int)\n"
                "    extends io.gatling.core.Predef.Simulation\n")
        self.assertEqual(driver.simulation_class(text), "a.b.c.Sim")

    def test_comments_and_strings_do_not_count(self):
        text = ('// class A extends Simulation\n/* class B extends Simulation */\n'
                'val s = "class C extends Simulation"\nval t = """class D\n extends Simulation"""\n'
                "class Other extends Something\n")
        self.assertIsNone(driver.simulation_class(text))

    def test_comment_between_name_and_extends(self):
        text = "class Sim // the test\n  /* note */ extends Simulation {}\n"
        self.assertEqual(driver.simulation_class(text), "Sim")


class Rinha2025SummaryTest(unittest.TestCase):
    K6 = {"score": 974938.19, "p99_ms": 3.1, "p99_bonus": 0.16, "inconsistencies": 0, "consistency_checks": 29,
          "lag": 0, "transactions_success": 15000, "transactions_failure": 0,
          "default": {"payments": 14000}, "fallback": {"payments": 1000}, "gross": 1.0, "fees": 0.1}

    def meta(self, scale):
        return driver.metadata(parse("rinha2025", "--scale", str(scale)), "r", {}, WHEN)

    def test_full_scale_compares_with_the_best_final(self):
        s = driver.rinha2025_summary(self.K6, self.meta(1))
        self.assertEqual(s["score_vs_best_final"], 0.5)
        self.assertEqual((s["profile"], s["lag"], s["default"]), ("rinha2025", 0, {"payments": 14000}))

    def test_scaled_run_does_not(self):
        self.assertIsNone(driver.rinha2025_summary(self.K6, self.meta(0.2))["score_vs_best_final"])


class LedgerAuditTest(unittest.TestCase):
    """load-test/audit.sql on a database made from the real schema."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "crebito.db")
        with open(os.path.join(ROOT, "schema.sql"), encoding="utf-8") as f:
            schema = f.read()
        c = sqlite3.connect(self.db)
        c.executescript(schema)
        c.execute("INSERT INTO transactions VALUES (1, 1, 500, 'c', 'x', '2026-01-01T00:00:00.000000Z')")
        c.execute("INSERT INTO transactions VALUES (1, 2, 200, 'd', 'y', '2026-01-01T00:00:00.000001Z')")
        c.execute("UPDATE accounts SET balance_cents = 300, transaction_count = 2 WHERE id = 1")
        c.commit()
        c.close()

    def tearDown(self):
        self.dir.cleanup()

    def test_a_consistent_ledger_passes(self):
        self.assertEqual(driver.ledger_figures(self.db), (2, []))

    def test_a_balance_off_its_transactions_fails(self):
        c = sqlite3.connect(self.db)
        c.execute("UPDATE accounts SET balance_cents = 301 WHERE id = 1")
        c.commit()
        c.close()
        rows, failing = driver.ledger_figures(self.db)
        self.assertEqual(rows, 2)
        self.assertEqual(failing, [(1, 301, 300, 0, 1)])


class PidsFileTest(unittest.TestCase):
    def test_both_orders(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("api01 123\n456 nginx\n\nbroken\n")
        try:
            self.assertEqual(driver.read_pids(f.name), [("api01", 123), ("nginx", 456)])
        finally:
            os.unlink(f.name)
        self.assertEqual(driver.read_pids("/nonexistent"), [])

    def test_usage_of_this_process(self):
        u = driver.process_usage([("me", os.getpid())])["me"]
        self.assertGreater(u["peak_rss_mib"], 0)
        self.assertGreaterEqual(u["cpu_s"], 0)


if __name__ == "__main__":
    unittest.main()

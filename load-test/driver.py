#!/usr/bin/env python3
"""Runs a load profile against a fresh stack, tears the stack down, and summarizes the run.

  scripts/load rinha2024 [--scale F] [--limits] [--json FILE] [--port P]
      The 2024/Q1 Gatling simulation (load-test/); --scale 0.1 runs the same shape in 10% of the
      4 minutes. Keeps Gatling's HTML report, prints per-group figures and the challenge's money;
      on crebito it also checks that every transaction answered 200 is a row and runs the ledger
      audit (load-test/audit.sql).
  scripts/load capacity [--scale F] [--limits] [--json FILE] [--port P] [--p99-ms B]
      wrk with the official mix, stepping connections 1, 2, 4, ... 256 (20 s each, times F) until
      p99 exceeds B ms (default 25) or an answer other than 200/422 appears.
  scripts/load official --simulation FILE [--limits] [--json FILE] [--port P]
      A user-provided copy of the official Scala simulation, compiled and run by the same Maven
      project (scripts/gatling-official is the short way; it uses port 9999, as that file does).
  scripts/load rinha2025 [--scale F] [--limits] [--json FILE] [--port P] [--max-requests N]
      The 2025 final test (load-test/k6/rinha2025.js, k6 v1.1.0) with two fresh processor-sim on
      free loopback ports (fees 7% and 10%); --scale 0.2 runs the same shape in 20% of the 300 s
      (fewer payments, same peak of N VUs, default 603). Summary: score, p99, inconsistencies,
      lag, the default/fallback split.

--limits runs crebito under the compose file's limits (scripts/up --limits; docker-compose.yml,
or docker-compose.payments.yml for rinha2025). The stack lives in a temporary data and run folder,
on loopback port P (default $CREBITO_PORT, else 9999); CREBITO_SERVER_BINARY=build/crebito-null
runs the null server (no ledger, so no database check).

Another stack as the target, in crebito's place (any profile but official):
  --target NAME --target-start CMD --target-stop CMD --target-port P [--target-pids FILE]
      CMD runs with bash -c. The start command starts the stack with fresh data and returns once it
      answers on 127.0.0.1:P (also in $TARGET_PORT); for rinha2025 it finds the processors in
      $PROCESSOR_DEFAULT_URL and $PROCESSOR_FALLBACK_URL. The stop command stops it and may print its limits report (kept in
      stop.log). FILE lists its processes while it runs, one "PID NAME" or "NAME PID" a line. E.g.:
        scripts/load rinha2025 --scale 0.2 --target win25 --target-port 9990 \\
          --target-start '$KIT/peer start --caps --default $PROCESSOR_DEFAULT_URL --fallback $PROCESSOR_FALLBACK_URL' \\
          --target-stop '$KIT/peer stop' --target-pids /tmp/crebito-peer-win25/pids

Results: results/<profile>[-<target>]-<UTC stamp>/ (summary.json, reports, logs, each process's
CPU time and peak resident memory); --json FILE also writes the summary there. Installs what the
profile needs through scripts/setup. Python standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import summary  # noqa: E402

PROFILES = ("rinha2024", "capacity", "official", "rinha2025")
GATLING_PROFILES = ("rinha2024", "official")
MAX_SCALE = 10
DEFAULT_P99_MS = 25.0
DEFAULT_MAX_REQUESTS = 603  # the final test's peak of virtual users
CAPACITY_CONNECTIONS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CAPACITY_STEP_S = 20
# Gatling's own time bound is the injection profile (240 s at scale 1); this only guards a hang.
GATLING_DURATION_S, GATLING_SPARE_S = 240, 900
K6_DURATION_S, K6_SPARE_S = 300, 300  # likewise for the 2025 final's 300 s
WRK_SPARE_S = 60
READY_PROBE_TIMEOUT_S = 3
PROCESSOR_READY_TIMEOUT_S = 10
STOP_TIMEOUT_S = 10
FEES = {"default": "0.07", "fallback": "0.10"}  # the 2025 final's processors
# The 2025 final's best result, to compare a full-scale score with.
BEST_FINAL_2025 = {"score": 1949876.38, "p99_ms": 2.55, "who": "ricassiocosta-node (official final)"}


class UsageError(Exception):
    pass


def say(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


# ---- options ------------------------------------------------------------------------------------


def positive_scale(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"must be a number in (0, {MAX_SCALE}]")
    return value


def port_number(text):
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError("must be a number")
    return int(text)


def whole_number(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError("must be a number")
    return int(text)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see scripts/load --help)")


def parse_args(argv, env=None):
    """The command line -> options (an argparse.Namespace); UsageError on anything wrong."""
    env = os.environ if env is None else env
    p = _Parser(prog="scripts/load", add_help=False)
    p.add_argument("profile", choices=PROFILES)
    p.add_argument("--scale", type=positive_scale, default=1.0)
    p.add_argument("--limits", action="store_true")
    p.add_argument("--json", dest="json_out")
    p.add_argument("--port", type=port_number)
    p.add_argument("--p99-ms", type=float)
    p.add_argument("--simulation")
    p.add_argument("--max-requests", type=whole_number)
    p.add_argument("--target")
    p.add_argument("--target-start")
    p.add_argument("--target-stop")
    p.add_argument("--target-port", type=port_number)
    p.add_argument("--target-pids")
    o = p.parse_args(argv)

    def only_for(option, value, profiles):
        if value is not None and o.profile not in profiles:
            raise UsageError(f"{option} goes with {' or '.join(profiles)}, not {o.profile}")

    only_for("--p99-ms", o.p99_ms, ("capacity",))
    only_for("--simulation", o.simulation, ("official",))
    only_for("--max-requests", o.max_requests, ("rinha2025",))
    if o.p99_ms is None:
        o.p99_ms = DEFAULT_P99_MS
    if o.max_requests is None:
        o.max_requests = DEFAULT_MAX_REQUESTS
    if o.profile == "official":
        if not o.simulation or not os.path.isfile(o.simulation):
            raise UsageError("official needs --simulation FILE (a copy of the official .scala file)")
        o.simulation = os.path.abspath(o.simulation)
    if o.port is None:
        try:
            o.port = port_number(env.get("CREBITO_PORT", "9999"))
        except argparse.ArgumentTypeError:
            raise UsageError("CREBITO_PORT must be a number") from None

    target_options = (o.target_start, o.target_stop, o.target_port, o.target_pids)
    if o.target is None:
        if any(v is not None for v in target_options):
            raise UsageError("--target-start, --target-stop, --target-port and --target-pids go with --target")
    else:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", o.target) or o.target.startswith("crebito"):
            raise UsageError("--target: a plain name (letters, digits, . _ -) that is not crebito's")
        if None in (o.target_start, o.target_stop, o.target_port):
            raise UsageError("--target needs --target-start, --target-stop and --target-port")
        if o.profile == "official":
            raise UsageError("official runs crebito only (the file has its address built in)")
        if o.limits:
            raise UsageError("--limits applies to crebito's stack; put the target's limits in its start command")
        o.port = o.target_port
        if o.target_pids:
            o.target_pids = os.path.abspath(o.target_pids)
    if o.json_out:
        o.json_out = os.path.abspath(o.json_out)
    o.server_binary = env.get("CREBITO_SERVER_BINARY", "")
    return o


def command_line(o):
    """How the run was asked for, as the summary records it."""
    if o.profile == "official":
        words = ["scripts/gatling-official", os.path.basename(o.simulation)]
    else:
        words = ["scripts/load", o.profile, "--scale", f"{o.scale:g}"]
        if o.profile == "capacity" and o.p99_ms != DEFAULT_P99_MS:
            words += ["--p99-ms", f"{o.p99_ms:g}"]
        if o.profile == "rinha2025" and o.max_requests != DEFAULT_MAX_REQUESTS:
            words += ["--max-requests", str(o.max_requests)]
    if o.limits:
        words.append("--limits")
    if o.target:
        words += ["--target", o.target]
    return " ".join(words)


def stack_name(o):
    """What ran: the target's name, crebito, or the build of crebito CREBITO_SERVER_BINARY names."""
    if o.target:
        return o.target
    return os.path.basename(o.server_binary) if o.server_binary else "crebito"


def keeps_ledger(o):
    """Whether the stack's database can be checked: crebito's own, not the null server's."""
    return o.target is None and stack_name(o) != "crebito-null"


def results_dir_name(profile, when, target=None):
    """results/<profile>[-<target>]-<UTC stamp>: a run's folder name."""
    stamp = when.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return "-".join([profile] + ([target] if target else []) + [stamp])


def metadata(o, revision, machine, when):
    """What a summary says about the run besides its figures."""
    return {
        "profile": o.profile,
        "command": command_line(o),
        "stack": stack_name(o),
        "revision": revision,
        "date_utc": when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine,
        "scale": o.scale,
        "limits": o.limits,
        "port": o.port,
    }


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "kernel": platform.release(),
        # Other work on the machine at the start: figures taken under load are noisier.
        "loadavg_1m_at_start": os.getloadavg()[0],
    }


def revision():
    """The code measured: scripts/up builds the work tree as it is, so "-dirty" means uncommitted changes."""
    try:
        return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---- the official simulation file -------------------------------------------------------------------


CHAR_LITERAL = re.compile(r"'(?:\\.|[^\\'\n])'")


def _without_comments_and_strings(text):
    """Scala source with comments and string literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2  # Scala block comments nest
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j) or " ")
            i = j
        elif text.startswith('"""', i):
            end = text.find('"""', i + 3)
            j = n if end < 0 else end + 3
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif CHAR_LITERAL.match(text, i):  # e.g. '"'
            out.append("' '")
            i = CHAR_LITERAL.match(text, i).end()
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


SCALA_CLASS = re.compile(
    r"\bclass\s+([A-Za-z_][A-Za-z0-9_]*)"  # the name
    r"(?:\s*\[[^\]]*\])?"  # type parameters
    r"(?:\s*(?:private|protected)?\s*\([^)]*\))?"  # constructor parameters
    r"\s+extends\s+(?:[A-Za-z_][A-Za-z0-9_.]*\.)?Simulation\b"
)
SCALA_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_.]*)\s*;?\s*$", re.M)


def simulation_class(text):
    """The fully qualified name of the first `class X extends Simulation` in a Scala file, whatever
    its layout (name and `extends` on different lines, comments and annotations around them), or
    None. Chained package clauses (`package a` then `package b`) make a.b."""
    code = _without_comments_and_strings(text)
    m = SCALA_CLASS.search(code)
    if not m:
        return None
    packages = [p.group(1) for p in SCALA_PACKAGE.finditer(code, 0, m.start())]
    return ".".join(packages + [m.group(1)])


# ---- processes and stacks ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port, path="/"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # something answered
    except OSError:
        return False


def get_json(url, timeout_s=5):
    with urllib.request.urlopen(url, timeout=timeout_s) as r:
        return json.loads(r.read())


def read_pids(path):
    """A pids file ("NAME PID" or "PID NAME" lines) -> [(name, pid)]."""
    entries = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                words = line.split()
                if len(words) < 2:
                    continue
                a, b = words[0], words[1]
                if a.isdigit():
                    entries.append((b, int(a)))
                elif b.isdigit():
                    entries.append((a, int(b)))
    except OSError:
        pass
    return entries


def process_usage(entries):
    """Per process: CPU seconds so far and peak resident memory (VmHWM), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    usage = {}
    for name, pid in entries:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/status", encoding="utf-8") as f:
                hwm = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
        except (OSError, IndexError, ValueError):
            continue
        usage[name] = {"pid": pid, "cpu_s": round((int(fields[11]) + int(fields[12])) / ticks, 2),
                       "peak_rss_mib": round(hwm / 1024, 1)}
    return usage


def stop_pid(pid, exe=None):
    """TERM, then KILL after STOP_TIMEOUT_S; only when the pid still runs `exe` (if given)."""

    def ours():
        try:
            running = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
        except OSError:
            return False
        return exe is None or running == os.path.realpath(exe)

    if not ours():
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
    if ours():
        os.kill(pid, signal.SIGKILL)


class CrebitoStack:
    """crebito (scripts/up -d) in temporary data and run folders, torn down by scripts/down."""

    def __init__(self, o, work_dir, results_dir):
        self.o, self.results_dir = o, results_dir
        self.data_dir, self.run_dir = os.path.join(work_dir, "data"), os.path.join(work_dir, "run")
        self.env = dict(os.environ, CREBITO_DATA_DIR=self.data_dir, CREBITO_RUN_DIR=self.run_dir,
                        CREBITO_PORT=str(o.port))
        # The face the profile exercises, as the compose files deploy it (CREBITO_FACES wins).
        self.env.setdefault("CREBITO_FACES", "payments" if o.profile == "rinha2025" else "ledger")
        if o.limits:
            # cgroups of this run's own, so a stack under limits elsewhere on the machine is untouched.
            self.env["CREBITO_CGROUP_NAME"] = f"crebito-load-{os.getpid()}"
            if o.profile == "rinha2025":
                self.env.setdefault("CREBITO_COMPOSE_FILE", os.path.join(ROOT, "docker-compose.payments.yml"))
        self.db = os.path.join(self.data_dir, "crebito.db")
        self.recorded = []

    def start(self, processors=None):
        if processors:
            self.env.update(processors)
        subprocess.run([os.path.join(ROOT, "scripts", "up"), "-d"] + (["--limits"] if self.o.limits else []),
                       env=self.env, check=True)

    def processes(self):
        return read_pids(os.path.join(self.run_dir, "pids"))

    def stop(self):
        # scripts/down recognises a process by its executable, so one whose binary was rebuilt
        # during the run escapes it; and it deletes the pids file. Keep the list to check afterwards.
        self.recorded = self.processes()
        with open(os.path.join(self.results_dir, "down.log"), "w", encoding="utf-8") as log:
            subprocess.run([os.path.join(ROOT, "scripts", "down")], env=self.env, stdout=log,
                           stderr=subprocess.STDOUT)
        with open(os.path.join(self.results_dir, "down.log"), encoding="utf-8") as log:
            report = [line for line in log if re.match(r"(api01|api02|haproxy) ", line)]
        sys.stderr.writelines(report)  # with --limits: each group's peak memory and CPU throttling
        # Any recorded process still carrying this run's folder in its environment is ours to stop.
        marker = f"CREBITO_RUN_DIR={self.run_dir}".encode()
        for name, pid in self.recorded:
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    mine = marker in f.read().split(b"\0")
            except OSError:
                continue
            if mine:
                say(f"stopping {name} (pid {pid}), which scripts/down left running")
                stop_pid(pid)
        copy_logs(self.run_dir, self.results_dir)


class TargetStack:
    """Another stack, started and stopped by the commands given on the command line."""

    def __init__(self, o, results_dir):
        self.o, self.results_dir = o, results_dir
        self.running = False

    def start(self, processors=None):
        env = dict(os.environ, **(processors or {}), TARGET_PORT=str(self.o.port))
        with open(os.path.join(self.results_dir, "start.log"), "w", encoding="utf-8") as log:
            status = subprocess.run(["bash", "-c", self.o.target_start], env=env, stdout=log,
                                    stderr=subprocess.STDOUT).returncode
        self.running = True  # a failed start may have left part of it running: stop it all the same
        if status != 0:
            tail(os.path.join(self.results_dir, "start.log"))
            raise RuntimeError(f"{self.o.target} did not start (status {status}); see {self.results_dir}/start.log")

    def processes(self):
        return read_pids(self.o.target_pids) if self.o.target_pids else []

    def stop(self):
        if not self.running:
            return
        self.running = False
        with open(os.path.join(self.results_dir, "stop.log"), "w", encoding="utf-8") as log:
            subprocess.run(["bash", "-c", self.o.target_stop], stdout=log, stderr=subprocess.STDOUT)
        with open(os.path.join(self.results_dir, "stop.log"), encoding="utf-8") as log:
            sys.stderr.write(log.read())


class Processors:
    """Two processor-sim on free loopback ports, with the final's fees."""

    def __init__(self, work_dir, results_dir):
        self.binary = os.path.join(ROOT, "build", "processor-sim")
        self.work_dir, self.results_dir = work_dir, results_dir
        self.pids = []
        self.urls = {}

    def start(self):
        for name in ("default", "fallback"):
            port = free_port()
            log = open(os.path.join(self.work_dir, f"processor-{name}.log"), "w", encoding="utf-8")
            process = subprocess.Popen([self.binary, "--listen", f"127.0.0.1:{port}", "--fee", FEES[name]],
                                       stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.pids.append(process.pid)
            self.urls[name] = f"http://127.0.0.1:{port}"
            # Any answer will do; not the health check, whose one call per 5 s belongs to the backend.
            deadline = time.monotonic() + PROCESSOR_READY_TIMEOUT_S
            while not answers(port, f"/payments/{uuid.UUID(int=0)}"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"processor-sim ({name}) did not answer on port {port}; "
                                       f"see {self.results_dir}/processor-{name}.log")
                time.sleep(0.05)
        return {"PROCESSOR_DEFAULT_URL": self.urls["default"], "PROCESSOR_FALLBACK_URL": self.urls["fallback"]}

    def stop(self):
        for pid in self.pids:
            stop_pid(pid, self.binary)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        copy_logs(self.work_dir, self.results_dir, prefix="processor-")


def copy_logs(src_dir, dst_dir, prefix=""):
    try:
        names = os.listdir(src_dir)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".log"):
            with open(os.path.join(src_dir, name), "rb") as f, open(os.path.join(dst_dir, name), "wb") as out:
                out.write(f.read())


def tail(path, lines=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            sys.stderr.writelines(f.readlines()[-lines:])
    except OSError:
        pass


def setup(*purposes):
    """scripts/setup's stdout (k6 prints its path there)."""
    return subprocess.run([os.path.join(ROOT, "scripts", "setup"), *purposes], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip()


def build(*targets):
    subprocess.run(["bash", "-c", 'source "$0/scripts/lib/common.sh" && build_crebito "$@"', ROOT, *targets],
                   check=True)


# ---- the ledger ------------------------------------------------------------------------------------


def audit_sql():
    with open(os.path.join(HERE, "audit.sql"), encoding="utf-8") as f:
        return f.read()


def ledger_figures(db):
    """(transaction rows, accounts failing the audit) of a crebito database, read while it runs."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = connection.execute("SELECT count(*) FROM transactions").fetchone()[0]
        failing = [row for row in connection.execute(audit_sql()) if row[-2:] != (1, 1)]
    finally:
        connection.close()
    return rows, failing


# ---- the profiles ------------------------------------------------------------------------------------


def run_gatling(o, stack, results_dir, work_dir, meta):
    base_url = f"http://127.0.0.1:{o.port}"
    args = [f"-Dgatling.resultsFolder={results_dir}", "-Djava.net.preferIPv4Stack=true"]
    if o.profile == "rinha2024":
        counts_file = os.path.join(results_dir, "post-status-counts.json")
        args += ["-Dgatling.simulationClass=crebito.load.Rinha2024Simulation", f"-DbaseUrl={base_url}",
                 f"-Dscale={o.scale:g}", f"-DcountsFile={counts_file}"]
        what = f"scale {o.scale:g}"
    else:
        with open(o.simulation, encoding="utf-8") as f:
            simulation = simulation_class(f.read())
        # Compiled from a folder of its own: the user's file is read, never changed or kept.
        source_dir = os.path.join(work_dir, "official")
        os.makedirs(source_dir)
        with open(o.simulation, "rb") as f, open(os.path.join(source_dir, os.path.basename(o.simulation)), "wb") as out:
            out.write(f.read())
        args += ["-Pofficial", f"-Dofficial.sourceDir={source_dir}", f"-Dgatling.simulationClass={simulation}"]
        counts_file = None
        what = simulation
    # Like the official harness: two statements first, so both instances have answered once.
    for _ in range(2):
        urllib.request.urlopen(f"{base_url}/clientes/1/extrato", timeout=5).read()
    ledger = keeps_ledger(o)
    rows_before = ledger_figures(stack.db)[0] if ledger else None
    log_path = os.path.join(results_dir, "gatling.log")
    say(f"running {o.profile} ({what}) against {base_url}; output in {log_path}")
    timeout_s = int(GATLING_DURATION_S * max(1.0, o.scale)) + GATLING_SPARE_S
    with open(log_path, "w", encoding="utf-8") as log:
        status = subprocess.run(["mvn", "-B", "-f", os.path.join(HERE, "pom.xml"), "gatling:test", *args],
                                stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s).returncode
    if status != 0:
        tail(log_path)
        raise RuntimeError(f"Gatling failed; its output is in {log_path}")
    counts = None
    if counts_file and os.path.exists(counts_file):
        with open(counts_file, encoding="utf-8") as f:
            counts = json.load(f)
    rows_added = None
    if ledger:
        rows_after, failing = ledger_figures(stack.db)
        rows_added = rows_after - rows_before
        meta = dict(meta, ledger_audit_failures=[list(row) for row in failing])
    else:
        say(f"{stack_name(o)} keeps no ledger of ours: no database check")
    result = summary.summarize_gatling(results_dir, counts, rows_added, meta)
    text = summary.format_gatling(result)
    if ledger:
        text += "\naudit: " + (f"{len(failing)} accounts FAIL load-test/audit.sql: {failing}" if failing
                               else "every balance equals the sum of its transactions, within its limit")
    return result, text


def run_capacity(o, results_dir, meta):
    base_url = f"http://127.0.0.1:{o.port}"
    step_s = max(2, round(CAPACITY_STEP_S * o.scale))
    steps = []
    for connections in CAPACITY_CONNECTIONS:
        say(f"wrk: {connections} connections for {step_s}s")
        out_path = os.path.join(results_dir, f"wrk-c{connections}.txt")
        with open(out_path, "w", encoding="utf-8") as out:
            status = subprocess.run(
                ["wrk", "-t1", f"-c{connections}", f"-d{step_s}s", "--latency", "-s",
                 os.path.join(HERE, "wrk", "mix.lua"), base_url],
                stdout=out, stderr=subprocess.STDOUT, timeout=step_s + WRK_SPARE_S,
                env=dict(os.environ, CREBITO_WRK_CONNECTIONS=str(connections))).returncode
        if status != 0:
            raise RuntimeError(f"wrk failed; see {out_path}")
        with open(out_path, encoding="utf-8") as f:
            line = next((l[len("CREBITO_WRK "):] for l in f if l.startswith("CREBITO_WRK ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no summary; see {out_path}")
        steps.append(json.loads(line))
        # Stop at the first step that breaks the bound or shows an error.
        if not summary.step_sustained(steps[-1], o.p99_ms):
            break
    with open(os.path.join(results_dir, "wrk-steps.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(step) + "\n" for step in steps)
    result = summary.summarize_capacity(steps, o.p99_ms, meta)
    return result, summary.format_capacity(result)


def rinha2025_summary(k6_result, meta):
    """The summary of a rinha2025 run from what load-test/k6/rinha2025.js wrote."""
    r = k6_result
    result = dict(meta)
    result.update({
        "score": r["score"], "p99_ms": r["p99_ms"], "p99_bonus": r["p99_bonus"],
        "inconsistencies": r["inconsistencies"], "consistency_checks": r["consistency_checks"],
        "lag": r["lag"],
        "transactions_success": r["transactions_success"],
        "transactions_failure": r["transactions_failure"],
        "default": r["default"], "fallback": r["fallback"],
        "gross": r["gross"], "fees": r["fees"],
        "best_final": BEST_FINAL_2025,
        # A scaled run sends fewer payments; compare the score to the best final only at scale 1.
        "score_vs_best_final": round(r["score"] / BEST_FINAL_2025["score"], 4) if meta["scale"] == 1 else None,
    })
    return result


def format_rinha2025(result):
    keys = ("score", "p99_ms", "inconsistencies", "lag", "transactions_success", "transactions_failure")
    return "\n".join([
        json.dumps({k: result[k] for k in keys}),
        f"default {result['default']['payments']} / fallback {result['fallback']['payments']} payments; "
        f"best final: {BEST_FINAL_2025['score']:,} at p99 {BEST_FINAL_2025['p99_ms']} ms",
    ])


def run_rinha2025(o, k6_bin, processors, results_dir, meta):
    base_url = f"http://127.0.0.1:{o.port}"
    # The runner's readiness probe: the summary without parameters must answer 2xx.
    urllib.request.urlopen(f"{base_url}/payments-summary", timeout=READY_PROBE_TIMEOUT_S).read()
    log_path = os.path.join(results_dir, "k6.log")
    result_path = os.path.join(results_dir, "k6-result.json")
    say(f"running k6 rinha2025 (scale {o.scale:g}, peak {o.max_requests} VUs) against {base_url}; "
        f"output in {log_path}")
    variables = {"BASE_URL": base_url, "DEFAULT_URL": processors.urls["default"],
                 "FALLBACK_URL": processors.urls["fallback"], "TOKEN": str(uuid.uuid4()),
                 "SCALE": f"{o.scale:g}", "MAX_REQUESTS": str(o.max_requests), "SUMMARY_FILE": result_path}
    command = [k6_bin, "run", "--quiet"]
    for k, v in variables.items():
        command += ["-e", f"{k}={v}"]
    command.append(os.path.join(HERE, "k6", "rinha2025.js"))
    with open(log_path, "w", encoding="utf-8") as log:
        # k6 sends no usage report: every run stays on loopback.
        status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, K6_NO_USAGE_REPORT="true"),
                                timeout=int(K6_DURATION_S * o.scale) + K6_SPARE_S).returncode
    if status != 0:
        tail(log_path, 30)
        raise RuntimeError(f"k6 failed ({status}); see {log_path}")
    with open(result_path, encoding="utf-8") as f:
        result = rinha2025_summary(json.load(f), meta)
    return result, format_rinha2025(result)


def run(o):
    if o.profile in GATLING_PROFILES:
        setup("gatling")
        if o.profile == "official":
            with open(o.simulation, encoding="utf-8") as f:
                if simulation_class(f.read()) is None:
                    raise UsageError(f"no 'class X extends Simulation' in {o.simulation}")
    elif o.profile == "capacity":
        setup("wrk")
    k6_bin = None
    if o.profile == "rinha2025":
        k6_bin = setup("build", "k6")
        build("processor-sim")

    if answers(o.port):
        raise UsageError(f"something already answers on 127.0.0.1:{o.port}; "
                         + ("stop it first" if o.target else "pick another with --port"))
    when = datetime.datetime.now(datetime.timezone.utc)
    results_dir = os.path.join(ROOT, "results", results_dir_name(o.profile, when, o.target))
    os.makedirs(results_dir)
    meta = metadata(o, revision(), machine_info(), when)

    work_dir = tempfile.mkdtemp(prefix="crebito-load.")
    stack = TargetStack(o, results_dir) if o.target else CrebitoStack(o, work_dir, results_dir)
    processors = Processors(work_dir, results_dir) if o.profile == "rinha2025" else None
    try:
        stack.start(processors.start() if processors else None)
        if o.profile in GATLING_PROFILES:
            result, text = run_gatling(o, stack, results_dir, work_dir, meta)
        elif o.profile == "capacity":
            result, text = run_capacity(o, results_dir, meta)
        else:
            result, text = run_rinha2025(o, k6_bin, processors, results_dir, meta)
        result["processes"] = process_usage(stack.processes())
        if processors:
            result["processes"].update(process_usage(
                [(f"processor-{name}", pid) for name, pid in zip(("default", "fallback"), processors.pids)]))
            if not o.target:
                try:
                    with open(os.path.join(results_dir, "consistency.json"), "w", encoding="utf-8") as f:
                        json.dump(get_json(f"http://127.0.0.1:{o.port}/payments-consistency"), f, indent=2)
                except OSError:
                    pass
        write_json(os.path.join(results_dir, "summary.json"), result)
        print(text)
        print("processes (CPU s, peak RSS MiB): " + ", ".join(
            f"{name} {u['cpu_s']} / {u['peak_rss_mib']}" for name, u in result["processes"].items()))
    finally:
        try:
            stack.stop()
        finally:
            if processors:
                processors.stop()
            subprocess.run(["rm", "-rf", work_dir])
    if o.json_out:
        write_json(o.json_out, result)
    say(f"results in {results_dir}")
    return 0


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=2)
        f.write("\n")


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    if not argv or "-h" in argv or "--help" in argv:
        print(__doc__, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    # SIGTERM tears the stack down as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return run(parse_args(argv))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

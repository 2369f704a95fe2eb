#!/usr/bin/env python3
"""haproxy.cfg, run as is, under the environment of each place that runs it.

  haproxy_config_test.py SOURCE_DIR HAPROXY

haproxy.cfg reads its addresses from the environment and has a server for each CREBITO_APIn set
(2.6's conditional blocks). For each compose file's haproxy service (its CREBITO_* environment)
`haproxy -c` must accept it. For 1, 2, 3 and 16 instances, as scripts/up and the test stack set
them, a real haproxy on a free loopback port must name exactly api01 ... apiNN (read from
`show stat` on the stats socket CREBITO_STATS_SOCKET opens); CREBITO_API17 must stop it at start.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

START_DEADLINE_S = 10
STATS_READ_TIMEOUT_S = 5
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.payments.yml",
                 "docker-compose.payments-local.yml", "docker-compose.postgres.yml"]
# What scripts/up and tests/support/stack.cpp set: one socket per instance.
INSTANCE_COUNTS = [1, 2, 3, 16]
ENV_LINE = re.compile(r'^\s+(CREBITO_(?:LB_BIND|API\d+|STATS_SOCKET)):\s*"?([^"\n]*)"?\s*$')


def compose_environment(path):
    """The CREBITO_* variables a compose file gives haproxy (the only service that has them)."""
    with open(path) as f:
        return {m.group(1): m.group(2) for m in map(ENV_LINE.match, f) if m}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("CREBITO_")}


def show_stat(stats_path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(STATS_READ_TIMEOUT_S)
        s.connect(stats_path)
        s.sendall(b"show stat\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer.decode()


def servers_named(config, haproxy, instances, work):
    """The servers of backend `instances` in a haproxy started with N instances' environment."""
    stats = os.path.join(work, "stats")
    env = base_env()
    env.update(CREBITO_LB_BIND=f"127.0.0.1:{free_port()}", CREBITO_STATS_SOCKET=stats)
    for i in range(1, instances + 1):
        env[f"CREBITO_API{i}"] = os.path.join(work, f"api{i:02d}.sock")
    with open(os.path.join(work, "haproxy.log"), "wb") as log:
        process = subprocess.Popen([haproxy, "-db", "-f", config], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while not os.path.exists(stats):
            if process.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(work, "haproxy.log")) as f:
                    raise RuntimeError(f"haproxy did not open its stats socket: {f.read()[-500:]}")
            time.sleep(0.01)
        rows = [line.split(",") for line in show_stat(stats).splitlines()]
        return [row[1] for row in rows if row[0] == "instances" and row[1] != "BACKEND"]
    finally:
        process.terminate()
        process.wait()
        if os.path.exists(stats):
            os.remove(stats)


def main(argv):
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    root, haproxy = argv
    config = os.path.join(root, "haproxy.cfg")
    failures = 0

    def report(ok, what):
        nonlocal failures
        print(("ok   " if ok else "FAIL ") + what)
        failures += not ok

    for name in COMPOSE_FILES:
        env = compose_environment(os.path.join(root, name))
        result = subprocess.run([haproxy, "-c", "-f", config], env={**base_env(), **env},
                                capture_output=True, text=True)
        report(result.returncode == 0 and "CREBITO_API1" in env,
               f"{name}: haproxy -c with {env}" + ("" if result.returncode == 0 else f": {result.stderr}"))
    with tempfile.TemporaryDirectory() as work:
        for n in INSTANCE_COUNTS:
            named = servers_named(config, haproxy, n, work)
            want = [f"api{i:02d}" for i in range(1, n + 1)]
            report(named == want, f"{n} instance(s): servers {named}")
    env = {**base_env(), "CREBITO_API1": "/a", "CREBITO_API2": "/b", "CREBITO_API17": "/c"}
    result = subprocess.run([haproxy, "-c", "-f", config], env=env, capture_output=True, text=True)
    report(result.returncode != 0 and "16 instances at most" in result.stderr,
           "CREBITO_API17 stops haproxy at start")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

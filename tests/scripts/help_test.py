#!/usr/bin/env python3
"""Every executable script in the tree answers -h and --help with its usage and does nothing else.

  help_test.py SOURCE_DIR WORK_DIR

The scripts are found, not listed: every executable file git knows in SOURCE_DIR (tracked, or
untracked and not ignored; a walk of the tree when git cannot say), so a new script is checked
from its first run. Each one runs twice, with -h and with --help, from a copy of the tree in a
sandbox under WORK_DIR, and must:
  - exit 0 within RUN_TIMEOUT_S;
  - print its usage on stdout, the same for -h and --help: a shell script its header (the comment
    lines under the first line, as scripts/lib/common.sh's script_usage prints it), or the usage
    of the program it hands --help to, with no line of its own code either way; a Python script
    a usage line or its docstring;
  - start nothing: no process of its own is left once it has exited (this test is their
    subreaper: an orphan, a daemon included, becomes its child), and none of the commands that
    install, build or start something (TRIPWIRES, first on PATH) is run;
  - change nothing: the copy of the tree, HOME and TMPDIR are as before; as root, /tmp and
    /var/tmp are a private tmpfs each (a mount namespace) and must stay empty.
Planted scripts that break each rule in turn must be caught, so the checks are known to fail.
"""

import ast
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile

RUN_TIMEOUT_S = 30
PR_SET_CHILD_SUBREAPER = 36
# Commands a script's help must never reach: they install, build, start or fetch something.
TRIPWIRES = [
    "apt", "apt-get", "dpkg", "debootstrap", "docker", "dockerd", "docker-compose", "haproxy",
    "cmake", "ctest", "make", "g++", "clang", "clang++", "clang-format", "pg_ctl", "initdb",
    "postgres", "psql", "curl", "wget", "k6", "wrk", "mvn", "java", "npm", "go", "gnuplot",
    "systemctl", "mount", "umount", "unshare", "ip", "iptables", "sudo", "git",
]
# Folders a walk of the tree skips when git cannot list it: outputs, not sources.
WALK_SKIP = {".git", "data", "run", "results", "node_modules", "__pycache__"}


def tree_files(root):
    """Every file of the tree, relative to root: what git lists, else a walk."""
    try:
        top = subprocess.run(["git", "-C", root, "rev-parse", "--show-toplevel"], check=True,
                             capture_output=True, text=True).stdout.strip()
        if os.path.realpath(top) != os.path.realpath(root):
            raise ValueError("the tree is not a git checkout of its own")  # e.g. an export
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout
        return sorted({p for p in out.decode().split("\0") if p and os.path.isfile(os.path.join(root, p))})
    except (OSError, ValueError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in WALK_SKIP and not d.startswith("build")]
            files += [os.path.relpath(os.path.join(folder, n), root) for n in names]
        return sorted(files)


def executables(root, files):
    return [p for p in files
            if not os.path.islink(os.path.join(root, p)) and os.access(os.path.join(root, p), os.X_OK)]


def is_shell(path):
    with open(path, errors="replace") as f:
        first = f.readline()
    return first.startswith("#!") and ("bash" in first or first.rstrip().endswith("/sh"))


def header(path):
    """The usage a shell script must print: script_usage's awk, in Python."""
    lines = []
    with open(path, errors="replace") as f:
        for number, line in enumerate(f, 1):
            if number == 1:
                continue
            if not line.startswith("#"):
                break
            text = line[1:]
            lines.append(text[1:] if text.startswith(" ") else text)
    return "".join(lines)


def code_lines(path):
    """The script's lines that are code: not blank, not comments, longer than a closing keyword."""
    with open(path, errors="replace") as f:
        return {line.strip() for line in f
                if len(line.strip()) > 3 and not line.lstrip().startswith("#")}


def snapshot(folder):
    """path -> (size, mtime_ns, mode) for everything under folder."""
    state = {}
    for base, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(base, name)
            st = os.lstat(path)
            state[os.path.relpath(path, folder)] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return state


def difference(before, after):
    changed = [p for p in after if p not in before or before[p] != after[p]]
    removed = [p for p in before if p not in after]
    return [f"+{p}" for p in changed if p not in before] + [f"~{p}" for p in changed if p in before] + \
        [f"-{p}" for p in removed]


def own_children():
    """The live processes whose parent is this one (orphans it adopted as their subreaper)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == me and fields[0] != "Z":
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found.append((int(entry), f.read().replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def reap_zombies():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Sandbox:
    """A copy of the tree, an empty HOME and TMPDIR, and the tripwires, under work_dir."""

    def __init__(self, root, files, work_dir):
        self.dir = tempfile.mkdtemp(prefix="help-sandbox-", dir=work_dir)
        self.tree = os.path.join(self.dir, "tree")
        for p in files:
            target = os.path.join(self.tree, p)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(root, p), target, follow_symlinks=False)
        self.home = os.path.join(self.dir, "home")
        self.tmp = os.path.join(self.dir, "tmp")
        self.bin = os.path.join(self.dir, "bin")
        self.tripped = os.path.join(self.dir, "tripped.log")
        self.private_tmp_report = os.path.join(self.dir, "private-tmp.txt")
        for d in (self.home, self.tmp, self.bin):
            os.makedirs(d)
        for name in TRIPWIRES:
            stub = os.path.join(self.bin, name)
            with open(stub, "w") as f:
                f.write(f'#!/bin/sh\necho "{name} $*" >>"{self.tripped}"\nexit 1\n')
            os.chmod(stub, 0o755)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CREBITO_") and k != "CI"}
        self.env.update(PATH=f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", HOME=self.home,
                        TMPDIR=self.tmp)
        # A private /tmp and /var/tmp (root only; the sandbox must not be under them).
        self.unshare = None
        if os.geteuid() == 0 and not self.dir.startswith(("/tmp/", "/var/tmp/")):
            unshare = shutil.which("unshare")
            if unshare and subprocess.run([unshare, "--mount", "--propagation", "private", "/bin/true"],
                                          capture_output=True).returncode == 0:
                self.unshare = unshare
        self.tree_state = snapshot(self.tree)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def command(self, script, arg):
        path = os.path.join(self.tree, script)
        if not self.unshare:
            return [path, arg]
        wrapper = ('/bin/mount -t tmpfs -o size=64m,mode=1777 help-tmp /tmp && '
                   '/bin/mount -t tmpfs -o size=64m,mode=1777 help-var-tmp /var/tmp || exit 90\n'
                   'report=$1; shift; "$@"; status=$?\n'
                   '{ cd /tmp && find . -mindepth 1; cd /var/tmp && find . -mindepth 1 | sed "s|^\\.|/var/tmp|"; } '
                   '>"$report"\nexit $status\n')
        return [self.unshare, "--mount", "--propagation", "private", "/bin/bash", "-c", wrapper, "wrapper",
                self.private_tmp_report, path, arg]

    def run(self, script, arg):
        """Runs the script with arg; returns (exit status, stdout, stderr, problems)."""
        problems = []
        out_path, err_path = os.path.join(self.dir, "stdout"), os.path.join(self.dir, "stderr")
        for p in (out_path, err_path, self.tripped, self.private_tmp_report):
            if os.path.exists(p):
                os.remove(p)
        # Files, not pipes: a process left holding a pipe would keep a reader waiting.
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = subprocess.Popen(self.command(script, arg), cwd=self.tree, env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            try:
                status = process.wait(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                status = process.wait()
                problems.append(f"still running after {RUN_TIMEOUT_S} s")
        left = own_children()
        for pid, cmdline in left:
            problems.append(f"left a process running: pid {pid}: {cmdline}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid, _ in left:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        reap_zombies()
        with open(out_path, errors="replace") as f:
            stdout = f.read()
        with open(err_path, errors="replace") as f:
            stderr = f.read()
        if os.path.exists(self.tripped):
            with open(self.tripped) as f:
                problems += [f"ran {line.strip()}" for line in f]
        if self.unshare:
            if os.path.exists(self.private_tmp_report):
                with open(self.private_tmp_report) as f:
                    problems += [f"wrote {line.strip()} in /tmp or /var/tmp" for line in f if line.strip()]
            elif status != 90:
                problems.append("no report of /tmp and /var/tmp (the wrapper did not finish)")
            if status == 90:
                problems.append("could not mount a private /tmp")
        now = snapshot(self.tree)
        problems += [f"changed the tree: {d}" for d in difference(self.tree_state, now)]
        self.tree_state = now
        for name, folder in (("HOME", self.home), ("TMPDIR", self.tmp)):
            for entry in os.listdir(folder):
                problems.append(f"wrote {entry} in {name}")
                target = os.path.join(folder, entry)
                shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
        return status, stdout, stderr, problems


def python_usage_ok(path, stdout):
    with open(path) as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""
    return stdout.lower().startswith("usage:") or (doc and stdout.strip() == doc.strip())


def check(sandbox, script):
    """The problems of one script's -h and --help; empty when it behaves."""
    path = os.path.join(sandbox.tree, script)
    problems = []
    outputs = {}
    for arg in ("-h", "--help"):
        status, stdout, stderr, found = sandbox.run(script, arg)
        problems += [f"{arg}: {p}" for p in found]
        if status != 0:
            problems.append(f"{arg}: exit status {status}; stderr: {stderr.strip()[-300:]}")
        if not stdout.strip():
            problems.append(f"{arg}: printed no usage on stdout")
        elif is_shell(path):
            want = header(path)
            if not want.strip():
                problems.append("has no header comment to print as its usage")
            elif stdout != want:
                # Not its header: a usage it hands over to another program (scripts/load: the
                # driver's), which may not contain a line of the script's own code.
                leaked = [line for line in stdout.splitlines() if line.strip() in code_lines(path)]
                if leaked:
                    problems.append(f"{arg}: printed its own code, e.g. {leaked[0]!r}")
        elif not python_usage_ok(path, stdout):
            problems.append(f"{arg}: printed neither a usage line nor its docstring")
        outputs[arg] = stdout
    if outputs.get("-h") != outputs.get("--help"):
        problems.append("-h and --help print different things")
    return problems


PLANTED = {
    # Each breaks one rule; the check must report it.
    "planted/leaves-a-process": '#!/usr/bin/env bash\n# Usage: planted.\nsleep 60 &\necho "Usage: planted."\n',
    "planted/writes-the-tree": '#!/usr/bin/env bash\n# Usage: planted.\necho "Usage: planted."\ntouch "$(dirname "$0")/made"\n',
    "planted/prints-code": '#!/usr/bin/env bash\n# Usage: planted.\nset -eu\nsed -n 2,3p "$0" | sed "s/^# //"\n',
    "planted/installs": '#!/usr/bin/env bash\n# Usage: planted.\necho "Usage: planted."\napt-get install -y x >/dev/null 2>&1 || true\n',
    "planted/writes-tmp": '#!/usr/bin/env bash\n# Usage: planted.\necho "Usage: planted."\necho x >/tmp/planted-help-test\n',
    "planted/fails": '#!/usr/bin/env bash\n# Usage: planted.\necho "Usage: planted."\nexit 2\n',
}


def main(argv):
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    root, work_dir = (os.path.abspath(a) for a in argv)
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("error: cannot become a subreaper (prctl)", file=sys.stderr)
        return 1
    files = tree_files(root)
    scripts = executables(root, files)
    print(f"{len(scripts)} executable scripts: {' '.join(scripts)}")
    if not any(s.startswith("scripts/") for s in scripts):
        print("FAIL: no executable script found under scripts/: the discovery is broken")
        return 1
    os.makedirs(work_dir, exist_ok=True)
    sandbox = Sandbox(root, files, work_dir)
    failures = 0
    try:
        if not sandbox.unshare:
            print("note: not root or no mount namespace: /tmp and /var/tmp are not checked")
        for script in scripts:
            problems = check(sandbox, script)
            print(("FAIL " if problems else "ok   ") + script)
            for p in problems:
                print(f"       {p}")
            failures += bool(problems)
        # The checks can fail: each planted script must be caught.
        for name, text in PLANTED.items():
            if name == "planted/writes-tmp" and not sandbox.unshare:
                continue
            path = os.path.join(sandbox.tree, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
            sandbox.tree_state = snapshot(sandbox.tree)
            problems = check(sandbox, name)
            print(("caught " if problems else "MISSED ") + name + (f": {problems[0]}" if problems else ""))
            failures += not problems
            os.remove(path)
            sandbox.tree_state = snapshot(sandbox.tree)
    finally:
        sandbox.remove()
    print(f"{len(scripts)} scripts checked, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

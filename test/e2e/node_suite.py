#!/usr/bin/python3
"""Run the ONNX backend node test suite through kilnc and kiln-run.

Each case is a directory holding model.onnx and test_data_set_*/ (input_<i>.pb,
output_<i>.pb).  A case passes when `kilnc --emit=so` compiles the model and
`kiln-run` reports PASS on every data set.  Failures are compared with an
expected-failure list (node_suite_xfail.txt): a failure that is not listed, or
a listed case that now passes, makes the exit status 1.

Usage:
  node_suite.py --kilnc PATH --kiln-run PATH --suite DIR --xfail FILE --work DIR
                [-j N] [--filter REGEX] [--threads N] [--update-xfail] [-v]

Standard library only; runs with Debian's /usr/bin/python3.
"""

import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

DEFAULT_HEADER = """\
# Expected failures of the ONNX backend node test suite (test/e2e/node_suite.py).
#
# One line per case that is expected to fail:   test_name  # reason
# The reason is informative only (the first line of kilnc's diagnostic, the
# first FAIL line of kiln-run, a crash or a timeout); cases are matched by name.
# A failing case missing from this list is an unexpected failure, and a listed
# case that passes is an unexpected pass: both fail the run. The list only
# shrinks: when a case starts to pass, delete its line.
# Regenerate with:  node_suite.py ... --update-xfail   (keeps this header)
"""

COMPILE_TIMEOUT = 120
RUN_TIMEOUT = 60


class Result:
    __slots__ = ("name", "passed", "reason", "crash", "stderr_tail",
                 "command", "seconds")

    def __init__(self, name):
        self.name = name
        self.passed = False
        self.reason = ""
        self.crash = False
        self.stderr_tail = ""
        self.command = ""
        self.seconds = 0.0


def signal_name(num):
    try:
        return signal.Signals(num).name
    except (ValueError, AttributeError):
        return "?"


def run_tool(cmd, timeout, env=None):
    """Run cmd in its own process group.  Returns (rc, stdout, stderr) or
    (None, stdout, stderr) on timeout; the whole group is killed then (kilnc
    spawns the linker)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = b"", b""
        rc = None
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
    return (rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def crash_site(stderr):
    """A short signature of a crash from LLVM's stack dump: the assertion
    message if any, else the first named frame past the signal handlers."""
    for line in stderr.splitlines():
        m = re.search(r"Assertion [`'](.*)' failed", line)
        if m:
            return "assertion '%s'" % m.group(1)[:100]
        if line.startswith(("LLVM ERROR: ", "terminate called")):
            return line.strip()[:120]
    for line in stderr.splitlines():
        m = re.match(r"\s*#\d+ 0x[0-9a-f]+ (.+?) \((?:/|\.)", line)
        if not m:
            continue
        frame = m.group(1)
        # drop argument lists, template arguments and the return type
        frame = re.sub(r"\(.*\)", "", frame)
        while "<" in frame:
            new = re.sub(r"<[^<>]*>", "", frame)
            if new == frame:
                break
            frame = new
        frame = frame.strip().split(" ")[-1] if frame.strip() else ""
        if not frame or _GENERIC_FRAME.match(frame):
            continue
        return frame[:120]
    return ""


_GENERIC_FRAME = re.compile(
    r"(llvm::sys::|SignalHandler|__restore_rt|abort$|raise$|__pthread|__GI_|"
    r"__assert|llvm::function_ref|.*callback_fn|mlir::detail::walk|"
    r"mlir::detail::OpToOpPassAdaptor|mlir::PassManager::|main$|"
    r"__libc_start|_start$)")


def crash_excerpt(stderr, lines=12):
    """The useful part of LLVM's crash output: the messages, and the frames
    past the signal handler (LLVM's handler frames and the libc trampoline)."""
    text = [l for l in stderr.splitlines()
            if not l.startswith("PLEASE submit") and "Program arguments:" not in l]
    frames = [i for i, l in enumerate(text) if re.match(r"\s*#\d+ ", l)]
    skip = set()
    for i in frames[:6]:
        if "llvm::sys::" in text[i] or "libLLVM" in text[i] and "::" not in text[i]:
            skip.add(i)
        elif "libc.so" in text[i]:
            skip.update(f for f in frames if f <= i)
            break
    return [l[:180] for i, l in enumerate(text) if i not in skip][:lines]


def tail(text, lines=15):
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def clean_message(line, paths):
    """Strip the 'kilnc: error: ' prefix, a leading 'MODEL: ' (paths[0]) and
    the case's absolute paths (paths[1:]), so reasons do not depend on where
    the suite and the work directory live."""
    for prefix in ("kilnc: error: ", "kiln-run: error: "):
        if line.startswith(prefix):
            line = line[len(prefix):]
            break
    model, others = paths[0], paths[1:]
    if line.startswith(model + ": "):
        line = line[len(model) + 2:]
    line = line.replace(model, "model.onnx")
    for p in sorted(others, key=len, reverse=True):
        if p:
            line = line.replace(p + os.sep, "")
    return line.strip()


def quote(s):
    return "'" + s.replace("'", "'\\''") + "'" if re.search(r"[^\w@%+=:,./-]", s) else s


def run_case(name, args):
    res = Result(name)
    start = time.monotonic()
    case_dir = os.path.join(args.suite, name)
    model = os.path.join(case_dir, "model.onnx")
    so = os.path.join(args.work, name + ".so")
    header = os.path.join(args.work, name + ".h")
    tmpdir = os.path.join(args.work, name + ".tmp")
    # The model path first: stripped as a "MODEL: " prefix; the rest made relative.
    paths = [model, case_dir, args.work]
    try:
        os.makedirs(tmpdir, exist_ok=True)
        env = dict(os.environ, TMPDIR=tmpdir)
        # --name keeps the header beside the .so (NAME.h) unique per case.
        # Kiln compiles static shapes: an input the model leaves open (a
        # dynamic dimension, a sequence, an optional) is pinned to the shape
        # of the first data set's value, as a user compiles for their data.
        cmd = [args.kilnc, model, "--emit=so", "--name=" + name, "-o", so]
        cmd += args.kilnc_flags
        first_data = os.path.join(case_dir, "test_data_set_0")
        if os.path.isdir(first_data):
            cmd.append("--input-shapes-from=" + first_data)
        res.command = " ".join(quote(c) for c in cmd)
        rc, out, err = run_tool(cmd, args.compile_timeout, env)
        if rc is None:
            res.reason = "timeout: kilnc after %d s" % args.compile_timeout
            res.stderr_tail = tail(err)
            return res
        if rc < 0:
            res.crash = True
            res.reason = "crash: kilnc killed by signal %d (%s)" % (
                -rc, signal_name(-rc))
            site = crash_site(err)
            if site:
                res.reason += " in " + site
            res.stderr_tail = "\n".join(err.splitlines()[:40])
            return res
        if rc != 0:
            msg = clean_message(first_line(err), paths)
            if not msg:
                msg = "kilnc exit %d with no message" % rc
            elif rc != 1:
                msg = "kilnc exit %d: %s" % (rc, msg)
            res.reason = msg
            res.stderr_tail = tail(err)
            return res
        if not os.path.isfile(so):
            res.reason = "kilnc exited 0 but wrote no %s" % os.path.basename(so)
            return res

        data_sets = sorted(d for d in os.listdir(case_dir)
                           if d.startswith("test_data_set_")
                           and os.path.isdir(os.path.join(case_dir, d)))
        if not data_sets:
            res.reason = "no test_data_set_* directory"
            return res
        for ds in data_sets:
            data = os.path.join(case_dir, ds)
            cmd = [args.kiln_run, so, "--data", data,
                   "--threads", str(args.threads)]
            rc, out, err = run_tool(cmd, args.run_timeout, env)
            both = out + "\n" + err
            if rc is None:
                res.reason = "timeout: kiln-run after %d s (%s)" % (
                    args.run_timeout, ds)
                res.stderr_tail = tail(both)
                return res
            if rc < 0:
                res.crash = True
                res.reason = "crash: kiln-run killed by signal %d (%s)" % (
                    -rc, signal_name(-rc))
                site = crash_site(err)
                if site:
                    res.reason += " in " + site
                res.stderr_tail = "\n".join(both.strip().splitlines()[:40])
                res.command += "\n" + " ".join(quote(c) for c in cmd)
                return res
            fail_lines = [l.strip() for l in both.splitlines()
                          if re.search(r"\bFAIL\b", l)]
            if rc == 0 and not fail_lines and re.search(r"\bPASS\b", both):
                continue
            res.stderr_tail = tail(both)
            if fail_lines:
                res.reason = "wrong result: " + clean_message(fail_lines[0], paths)
            else:
                msg = first_line(err) or first_line(out)
                res.reason = "kiln-run: " + (clean_message(msg, paths)
                                             or "exit %d, no PASS" % rc)
            return res
        res.passed = True
        return res
    except Exception as e:  # never let a bad case take the runner down
        res.reason = "runner error: %s: %s" % (type(e).__name__, e)
        return res
    finally:
        res.seconds = time.monotonic() - start
        for f in (so, header, so + ".tmp"):
            try:
                os.remove(f)
            except OSError:
                pass
        shutil.rmtree(tmpdir, ignore_errors=True)


def read_xfail(path):
    """Returns (header_lines, {name: reason})."""
    header, entries = [], {}
    if not os.path.exists(path):
        return header, entries
    in_header = True
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            stripped = line.strip()
            if in_header and (stripped.startswith("#") or not stripped):
                header.append(line)
                continue
            in_header = False
            if not stripped or stripped.startswith("#"):
                continue
            name, _, reason = stripped.partition("#")
            entries[name.strip()] = reason.strip()
    while header and not header[-1].strip():
        header.pop()
    return header, entries


def write_xfail(path, header, entries):
    if not header:
        header = DEFAULT_HEADER.rstrip("\n").splitlines()
    width = max([len(n) for n in entries] + [0]) + 2
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for line in header:
            f.write(line + "\n")
        f.write("\n")
        for name in sorted(entries):
            reason = " ".join(entries[name].split())
            f.write("%s# %s\n" % (name.ljust(width), reason))
    os.replace(tmp, path)


def coarse(reason):
    """Group failure reasons for the histogram."""
    m = re.search(r"operator '?([\w.]+)'? (?:is )?not supported", reason)
    if m:
        return "operator %s is not supported" % m.group(1)
    if reason.startswith("wrong result"):
        return "wrong result"
    if reason.startswith(("crash:", "timeout")):
        return reason
    # Drop node names and quoted specifics so similar messages group together.
    r = re.sub(r"^node '[^']*' \(([^)]*)\):\s*", r"\1: ", reason)
    r = re.sub(r"'[^']*'", "'…'", r)
    r = re.sub(r"\[[\d,]*\]", "[…]", r)
    r = re.sub(r"\b(input|output) \d+\b", r"\1 N", r)
    return r[:140]


def wait_for(path, seconds=120):
    deadline = time.monotonic() + seconds
    while not (os.path.isfile(path) and os.access(path, os.X_OK)):
        if time.monotonic() > deadline:
            return False
        time.sleep(2)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kilnc", required=True)
    ap.add_argument("--kiln-run", dest="kiln_run", required=True)
    ap.add_argument("--suite", required=True,
                    help="e.g. /usr/include/onnx/backend/test/data/node")
    ap.add_argument("--xfail", required=True, help="expected-failure list")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--filter", help="only cases whose name matches REGEX (re.search)")
    ap.add_argument("--kilnc-flag", dest="kilnc_flags", action="append", default=[],
                    help="one more flag for kilnc (repeatable), e.g. --kilnc-flag=--mcpu=haswell")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads each model runs on (kiln-run --threads)")
    ap.add_argument("--update-xfail", action="store_true",
                    help="rewrite --xfail with the current failures; exit 0")
    ap.add_argument("--compile-timeout", type=int, default=COMPILE_TIMEOUT)
    ap.add_argument("--run-timeout", type=int, default=RUN_TIMEOUT)
    ap.add_argument("--slowest", type=int, default=10,
                    help="list the N slowest cases (0: none)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="one line per case")
    args = ap.parse_args()

    args.kilnc = os.path.abspath(args.kilnc)
    args.kiln_run = os.path.abspath(args.kiln_run)
    args.suite = os.path.abspath(args.suite)
    args.work = os.path.abspath(args.work)
    for tool in (args.kilnc, args.kiln_run):
        if not wait_for(tool):
            print("node_suite: error: %s is not an executable" % tool, file=sys.stderr)
            return 2
    if not os.path.isdir(args.suite):
        print("node_suite: error: no suite directory %s" % args.suite, file=sys.stderr)
        return 2
    os.makedirs(args.work, exist_ok=True)

    names = sorted(d for d in os.listdir(args.suite)
                   if os.path.isfile(os.path.join(args.suite, d, "model.onnx")))
    if args.filter:
        try:
            rx = re.compile(args.filter)
        except re.error as e:
            print("node_suite: error: bad --filter: %s" % e, file=sys.stderr)
            return 2
        names = [n for n in names if rx.search(n)]
    header, xfail = read_xfail(args.xfail)

    total = len(names)
    print("node suite: %d cases, -j %d, %s" % (total, args.j, args.suite), flush=True)
    results = {}
    lock = threading.Lock()
    t0 = time.monotonic()
    last_report = [t0]
    step = max(1, total // 10)

    def report(res):
        with lock:
            results[res.name] = res
            done = len(results)
            now = time.monotonic()
            if args.verbose:
                print("[%d/%d] %s %s%s (%.1f s)" % (
                    done, total, "PASS" if res.passed else "FAIL", res.name,
                    "" if res.passed else ": " + res.reason, res.seconds), flush=True)
            elif res.crash and res.name not in xfail:
                print("  %s: %s" % (res.name, res.reason), flush=True)
            if not args.verbose and (done % step == 0 or done == total
                                     or now - last_report[0] > 60):
                last_report[0] = now
                npass = sum(r.passed for r in results.values())
                print("[%d/%d] %d passed, %d failed, %.0f s" % (
                    done, total, npass, done - npass, now - t0), flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        futures = {pool.submit(run_case, n, args): n for n in names}
        try:
            for fut in concurrent.futures.as_completed(futures):
                name = futures[fut]
                try:
                    res = fut.result()
                except Exception as e:
                    res = Result(name)
                    res.reason = "runner error: %s: %s" % (type(e).__name__, e)
                report(res)
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            raise
    wall = time.monotonic() - t0

    ordered = [results[n] for n in names]
    failed = [r for r in ordered if not r.passed]
    crashes = [r for r in failed if r.crash]
    expected = [r for r in failed if r.name in xfail]
    unexpected_fail = [r for r in failed if r.name not in xfail]
    unexpected_pass = [r for r in ordered if r.passed and r.name in xfail]
    all_names = set(d for d in os.listdir(args.suite))
    stale = sorted(n for n in xfail if n not in all_names)

    print()
    hist = collections.Counter(coarse(r.reason) for r in failed)
    if hist:
        print("failure reasons (%d distinct):" % len(hist))
        for reason, count in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])):
            print("  %4d  %s" % (count, reason))
        print()
    if crashes:
        kinds = collections.OrderedDict()
        for r in crashes:
            kinds.setdefault(r.reason, []).append(r)
        print("crashes (%d, %d distinct; compiler/runtime bugs):"
              % (len(crashes), len(kinds)))
        for reason, rs in kinds.items():
            print("  %s" % reason)
            print("    cases: %s" % " ".join(r.name for r in rs))
            print("    reproduce: " + rs[0].command.replace("\n", " && "))
            for line in crash_excerpt(rs[0].stderr_tail):
                print("    | " + line[:200])
        print()
    if args.slowest > 0 and ordered:
        print("slowest cases:")
        for r in sorted(ordered, key=lambda r: -r.seconds)[:args.slowest]:
            print("  %6.1f s  %s%s" % (r.seconds, r.name,
                                       "" if r.passed else "  (" + r.reason + ")"))
        print()

    if args.update_xfail:
        if args.filter:
            entries = {n: v for n, v in xfail.items() if n not in results}
        else:
            entries = {}
        entries.update({r.name: r.reason for r in failed})
        write_xfail(args.xfail, header, entries)
        print("wrote %s: %d expected failures" % (args.xfail, len(entries)))
    else:
        if unexpected_fail:
            print("UNEXPECTED FAILURES (%d): fix them, or if intended, add them to %s"
                  % (len(unexpected_fail), args.xfail))
            for r in unexpected_fail:
                print("  %s  # %s" % (r.name, r.reason))
            print()
        if unexpected_pass:
            print("UNEXPECTED PASSES (%d): remove these lines from %s"
                  % (len(unexpected_pass), args.xfail))
            for r in unexpected_pass:
                print("  %s" % r.name)
            print()
        if stale:
            print("note: %d entries of %s name no case in the suite: %s"
                  % (len(stale), args.xfail, " ".join(stale)))
    print("node suite: %d passed, %d failed (%d expected), %d crashes  [%.0f s]"
          % (total - len(failed), len(failed), len(expected), len(crashes), wall))
    if args.update_xfail:
        return 0
    if unexpected_fail or unexpected_pass:
        print("node suite: FAILED (%d unexpected failures, %d unexpected passes)"
              % (len(unexpected_fail), len(unexpected_pass)))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("node_suite: interrupted", file=sys.stderr)
        sys.exit(130)

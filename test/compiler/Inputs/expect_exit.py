#!/usr/bin/python3
"""expect_exit.py CODE CMD...: runs CMD, fails unless it exits with CODE (not a
signal) and writes exactly one line to stderr; echoes that line to stdout for
FileCheck."""
import subprocess
import sys

code = int(sys.argv[1])
p = subprocess.run(sys.argv[2:], capture_output=True, text=True)
lines = [l for l in p.stderr.splitlines() if l.strip()]
print(p.stderr, end="")
if p.returncode != code:
    sys.exit(f"expected exit status {code}, got {p.returncode}")
if len(lines) != 1:
    sys.exit(f"expected one line on stderr, got {len(lines)}")

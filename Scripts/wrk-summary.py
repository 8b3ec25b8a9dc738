#!/usr/bin/env python3
"""Reads a `wrk --latency` report and prints "requests/s p99_ms" (for the bench scripts).

  wrk-summary.py REPORT
"""
import re
import sys

text = open(sys.argv[1]).read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"\n\s+99%\s+([\d.]+)(us|ms|s)", text).groups()
print(f"{rate:.0f} {float(value) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]:.1f}")

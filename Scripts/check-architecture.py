#!/usr/bin/env python3
"""Holds every `import` in Sources/ to the table of docs/ARCHITECTURE.md ("Modules and who may import whom").

Usage: Scripts/check-architecture.py   (from anywhere; exit 0 when every import is allowed, 1 otherwise)
A module's directory is Sources/<Module>; the fuzz targets (Sources/Fuzz/*) share the row "Fuzz", except
Sources/Fuzz/Support, which is "FuzzSupport". The platform's modules are open to every module.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLATFORM = {"Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization",
            "CoreFoundation", "Musl"}
IMPORT = re.compile(r"^[ \t]*(?:@\w+[ \t]+)*(?:(?:public|package|internal|private|fileprivate)[ \t]+)?import[ \t]+"
                    r"(?:(?:struct|class|enum|protocol|func|var|let|typealias)[ \t]+)?(\w+)", re.M)


def allowed_imports():
    text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
    marker = text.index("<!-- imports:")
    rules = {}
    for line in text[marker:].splitlines()[1:]:
        if not line.startswith("|"):
            if rules:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in ("module", "---") or set(cells[0]) <= {"-"}:
            continue
        rules[cells[0]] = {name.strip() for name in cells[1].split(",") if name.strip()}
    return rules


def module_of(path):
    parts = os.path.relpath(path, os.path.join(ROOT, "Sources")).split(os.sep)
    if parts[0] == "Fuzz":
        return "FuzzSupport" if parts[1] == "Support" else "Fuzz"
    return parts[0]


def main():
    rules = allowed_imports()
    problems = []
    for directory, _, files in os.walk(os.path.join(ROOT, "Sources")):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(directory, name)
            module = module_of(path)
            if module not in rules:
                problems.append(f"{os.path.relpath(path, ROOT)}: module {module} has no row in docs/ARCHITECTURE.md")
                continue
            source = open(path, encoding="utf-8").read()
            for match in IMPORT.finditer(source):
                imported = match.group(1)
                if imported in PLATFORM or imported in rules[module] or imported == module:
                    continue
                line = source.count("\n", 0, match.start()) + 1
                problems.append(f"{os.path.relpath(path, ROOT)}:{line}: {module} may not import {imported} "
                                f"(docs/ARCHITECTURE.md allows: {', '.join(sorted(rules[module])) or 'nothing'})")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} import(s) break docs/ARCHITECTURE.md: change the code, or the table and its reason",
              file=sys.stderr)
        return 1
    print(f"architecture: every import of {len(rules)} modules is allowed by docs/ARCHITECTURE.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

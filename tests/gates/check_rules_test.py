#!/usr/bin/env python3
"""scripts/check_rules.py must fail on each kind of planted violation and pass a clean tree.

A temporary git repository gets a clean minimal layout, then one violation at a time; each run's
output must name the planted file. Run by ctest (rules_checker); prints "N passed, N failed".
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "check_rules.py")


def write(base, path, text):
    full = os.path.join(base, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def clean_tree(base):
    subprocess.run(["git", "init", "-q", base], check=True)
    write(base, "CMakeLists.txt", "include(cmake/sources.cmake)\n")
    write(base, "cmake/sources.cmake", "set(S\n    src/a/used.cpp\n)\n")
    write(base, "include/ishannot/a/used.h", "#pragma once\nint used_function(int x);\n")
    write(base, "src/a/used.cpp",
          '#include "ishannot/a/used.h"\nint used_function(int x) { return x; }\n'
          "int caller() { return used_function(1); }\n")


def run(base):
    subprocess.run(["git", "-C", base, "add", "-A"], check=True)
    return subprocess.run([sys.executable, CHECK, "--root", base], capture_output=True, text=True)


def main():
    cases = {
        "clean tree passes": (None, None),
        "long function": ("src/a/long.cpp",
                          "void long_one() {\n" + "  int x = 0;\n" * 120 + "}\n"),
        "long file": ("src/a/big.cpp", "// line\n" * 501),
        "odd file name": ("uses both cores", "stray output\n"),
        "declared, never defined": ("include/ishannot/a/ghost.h",
                                    "#pragma once\nvoid ghost_function_never_defined(int x);\n"),
        "source not listed": ("src/a/unlisted.cpp", "int unlisted_value() { return 1; }\n"),
        "private header in src/detail": ("src/detail/lonely.h", "#pragma once\n"),
    }
    passed = failed = 0
    for name, (path, text) in cases.items():
        with tempfile.TemporaryDirectory() as base:
            clean_tree(base)
            if path:
                write(base, path, text)
                if path.startswith("src/a/long") or path.startswith("src/a/big"):
                    # listed, so that only the planted rule fires
                    write(base, "cmake/sources.cmake",
                          "set(S\n    src/a/used.cpp\n    %s\n)\n" % path)
            r = run(base)
            ok = (r.returncode == 0 and "rules: ok" in r.stdout) if path is None else (
                r.returncode == 1 and path in r.stdout)
            if ok:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {name}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

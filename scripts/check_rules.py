#!/usr/bin/env python3
"""The rules docs/ARCHITECTURE.md and docs/STYLE.md write down, checked in seconds (.ci/gates.sh).

  function length   a function over FUNCTION_LINES lines outside tests/ (the documented kernels
                    waived below)
  file length       a tracked .cpp/.h over FILE_LINES lines
  file names        a tracked path with a character outside [A-Za-z0-9._/+-]
  unused            a function declared in a header that no other place names (never defined, or
                    defined and never called)
  unlisted          a .cpp under src/ or apps/ that cmake/sources.cmake does not list

Usage: check_rules.py [--root DIR]. Prints one line per violation, "rules: N violations" and exits
1 when there are any; "rules: ok (...)" and 0 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

FUNCTION_LINES = 100
FILE_LINES = 500
# The documented numeric kernels (docs/ARCHITECTURE.md "Functions stay under ~100 lines").
FUNCTION_WAIVERS = {
    "src/data/synth_render.cpp:render_group_image",
    "src/data/synth_models.cpp:spatial_model",
    "src/sparse/lasso_cd.cpp:*",
    "src/learn/tile_product.cpp:*",
    "src/learn/pair_product.cpp:*",
}
# Names that are used without being spelled out elsewhere (entry points found by dlsym, gtest).
UNUSED_WAIVERS = {"ishannot_cnn_module", "main"}
CONTROL = {"if", "for", "while", "switch", "catch", "do", "else", "return", "sizeof", "decltype"}
SCOPES = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def tracked(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True)
    return [p for p in out.stdout.decode().split("\0") if p]


def strip_code(text):
    """Comments, string and char literals blanked (newlines kept, so line numbers hold)."""
    pattern = re.compile(
        r'//[^\n]*|/\*.*?\*/|(?<![A-Za-z0-9_])R"(?P<d>[^(]*)\(.*?\)(?P=d)"|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
        re.S)
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def functions(text):
    """(name, first line, last line) of each function body at namespace or class scope."""
    code = strip_code(text)
    found, stack, header_start = [], [], 0  # stack: (kind, name, start line)
    i, line = 0, 1
    for i, ch in enumerate(code):
        if ch == "\n":
            line += 1
        elif ch in ";":
            if not stack or stack[-1][0] != "function":
                header_start = i + 1
        elif ch == "{":
            header = code[header_start:i]
            inside = any(kind == "function" for kind, _, _ in stack)
            kind, name = "block", ""
            if not inside:
                flat = " ".join(header.split())
                words = re.findall(r"[A-Za-z_]\w*", flat)
                if SCOPES.search(flat) and "(" not in flat.split("=")[0]:
                    kind = "scope"
                elif "(" in flat and not (words and words[0] in CONTROL) and "=" not in flat.split("(")[0]:
                    m = re.search(r"([~A-Za-z_][\w:~]*|operator\s*\S+)\s*\(", flat)
                    kind, name = "function", (m.group(1) if m else "?")
                elif flat.startswith("extern"):
                    kind = "scope"
            start = line - header.lstrip().count("\n") if kind == "function" else line
            stack.append((kind, name, start))
            header_start = i + 1
        elif ch == "}":
            if stack:
                kind, name, start = stack.pop()
                if kind == "function":
                    found.append((name, start, line))
            if not stack or stack[-1][0] != "function":
                header_start = i + 1
    return found


def check_functions(root, files, problems):
    for path in files:
        if not path.endswith((".cpp", ".h")) or path.startswith("tests/"):
            continue
        text = open(os.path.join(root, path), encoding="utf-8", errors="replace").read()
        for name, first, last in functions(text):
            length = last - first + 1
            short = name.split("::")[-1]
            if length <= FUNCTION_LINES:
                continue
            if f"{path}:*" in FUNCTION_WAIVERS or f"{path}:{short}" in FUNCTION_WAIVERS:
                continue
            problems.append(f"{path}:{first}: function {name} is {length} lines (limit "
                            f"{FUNCTION_LINES}: split it into named steps)")


def check_file_lengths(root, files, problems):
    for path in files:
        if path.endswith((".cpp", ".h")):
            n = sum(1 for _ in open(os.path.join(root, path), encoding="utf-8", errors="replace"))
            if n > FILE_LINES:
                problems.append(f"{path}: {n} lines (limit {FILE_LINES}: split the file)")


def check_names(files, problems):
    for path in files:
        if not re.fullmatch(r"[A-Za-z0-9._/+-]+", path):
            problems.append(f"{path!r}: tracked file name with a character outside "
                            "[A-Za-z0-9._/+-] (a stray redirection?)")


DECL = re.compile(r"^\s*(?:(?:static|virtual|inline|explicit|friend|constexpr|\[\[nodiscard\]\])\s+)*"
                  r"[\w:<>,\s\*&]+?[\s\*&]([A-Za-z_]\w*)\s*\([^;{]*\)\s*(?:const)?\s*"
                  r"(?:noexcept)?\s*(?:override)?\s*;", re.M)


INLINE = re.compile(r"^\s*(?:(?:static|virtual|inline|explicit|constexpr|\[\[nodiscard\]\])\s+)*"
                    r"[\w:<>,\s\*&]+?[\s\*&]([A-Za-z_]\w*)\s*\([^;{]*\)\s*(?:const)?\s*"
                    r"(?:noexcept)?\s*(?:override)?\s*\{", re.M)


def check_unused(root, files, problems):
    code_files = [p for p in files if p.endswith((".cpp", ".h", ".py", ".js", ".sh", ".cmake"))]
    texts = {p: strip_code(open(os.path.join(root, p), encoding="utf-8", errors="replace").read())
             if p.endswith((".cpp", ".h")) else
             open(os.path.join(root, p), encoding="utf-8", errors="replace").read()
             for p in code_files}
    counts = {}
    for text in texts.values():
        for word in re.findall(r"[A-Za-z_]\w*", text):
            counts[word] = counts.get(word, 0) + 1
    for path, text in texts.items():
        if not path.endswith(".h") or path.startswith("tests/"):
            continue
        for m in DECL.finditer(text):
            name = m.group(1)
            if name in UNUSED_WAIVERS or name.startswith("operator") or name in CONTROL:
                continue
            # A declaration + a definition = 2: nobody calls it. 1: never even defined.
            if counts.get(name, 0) <= 2:
                line = text.count("\n", 0, m.start(1)) + 1
                what = "never defined" if counts.get(name, 0) == 1 else "never called"
                problems.append(f"{path}:{line}: {name} is declared but {what} (remove it)")
        for m in INLINE.finditer(text):
            name = m.group(1)
            if name in UNUSED_WAIVERS or name in CONTROL or name.startswith("operator"):
                continue
            if counts.get(name, 0) <= 1:  # defined in the header, named nowhere else
                line = text.count("\n", 0, m.start(1)) + 1
                problems.append(f"{path}:{line}: {name} is defined but never called (remove it)")


def check_listed(root, files, problems):
    listed = open(os.path.join(root, "cmake/sources.cmake"), encoding="utf-8").read().split()
    extra = os.path.join(root, "cmake")
    for name in os.listdir(extra):
        if name.endswith(".cmake") and name != "sources.cmake":
            listed += open(os.path.join(extra, name), encoding="utf-8").read().split()
    listed += open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8").read().split()
    listed = {w.strip(")(\"") for w in listed}
    for path in files:
        if path.endswith(".cpp") and path.startswith(("src/", "apps/")) and path not in listed:
            problems.append(f"{path}: not listed in cmake/sources.cmake (it is not built)")


def check_detail_shared(root, files, problems):
    """src/detail/ keeps the headers several modules share; one used by a single module (or none)
    belongs beside that module's sources (docs/ARCHITECTURE.md). Users: src/<module>/ files that
    include it, directly or through another src/detail/ header; tests and bench do not count."""
    sources = [p for p in files if p.startswith("src/") and p.endswith((".cpp", ".h"))]
    text = {p: open(os.path.join(root, p), encoding="utf-8").read() for p in sources}
    detail = [p for p in sources if p.startswith("src/detail/") and p.endswith(".h")]

    def modules(header, seen):
        name = '"detail/' + os.path.basename(header) + '"'
        found = set()
        for p, t in text.items():
            if name not in t or p == header:
                continue
            if p.startswith("src/detail/"):
                if p not in seen:
                    found |= modules(p, seen | {p})
            else:
                found.add(p.split("/")[1])
        return found

    for header in detail:
        users = modules(header, {header})
        if len(users) < 2:
            where = "no module" if not users else "only src/" + users.pop() + "/"
            problems.append(f"{header}: used by {where}: a private header lives beside its "
                            "module's sources (src/detail/ is for shared ones)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = parser.parse_args()
    files = tracked(args.root)
    problems = []
    check_names(files, problems)
    existing = [p for p in files if os.path.isfile(os.path.join(args.root, p))]
    check_file_lengths(args.root, existing, problems)
    check_functions(args.root, existing, problems)
    check_unused(args.root, existing, problems)
    check_listed(args.root, existing, problems)
    check_detail_shared(args.root, existing, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"rules: {len(problems)} violations")
        return 1
    print(f"rules: ok ({len(existing)} tracked files: names, file and function lengths, "
          "unused declarations, CMake source lists, shared detail headers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

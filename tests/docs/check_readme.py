#!/usr/bin/python3
"""README runs as pasted (issue 20): every command in README.md's ```bash blocks is checked.

  1. Every `ishannot ...` command names a subcommand of this build and only options that
     subcommand (or the main command) has, read from their --help. CNN commands (classify,
     extract, finetune, demo) are skipped in a build without libtorch, and said so.
  2. Files a command names inside the checkout (scripts/, workflow/) exist.
  3. The cheap commands (--help, `dataset`) run for real, as pasted, from a folder outside the
     checkout whose parent holds a link `shared` to the checkout's ../shared (so `../shared/data`
     means what it means in the checkout; `my_images/` holds four bdgp-mini images in stage
     subfolders) and with the binary on PATH as `ishannot`.

Usage: tests/docs/check_readme.py ISHANNOT_BINARY   (exit 0 = all good; 1 = a problem, printed)
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CNN_COMMANDS = {"classify", "extract", "finetune", "demo", "export"}
CHEAP = {"dataset"}  # run for real (seconds on the development data)
GLOBAL_WITH_VALUE = {"--threads", "--seed", "--progress"}


def readme_commands(path):
    """(line number, command text) of every command in ```bash blocks, continuations joined."""
    out, block, pending, start = [], False, "", 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("```"):
                block = line.strip() == "```bash" and not block
                continue
            if not block:
                continue
            text = re.sub(r"(^|\s)#.*$", "", line.rstrip("\n")).rstrip()
            if not pending:
                start = number
            if text.endswith("\\"):
                pending += text[:-1] + " "
                continue
            full = (pending + text).strip()
            pending = ""
            for part in re.split(r"&&|;", full):
                part = part.strip()
                if part and not re.match(r"^(for|done|do)\b", part):
                    out.append((start, part))
    return out


NESTED = {"fetch"}  # commands whose first argument is a subcommand (fetch bdgp)


def help_options(binary, command):
    args = [binary] + (command.split() if command else []) + ["--help"]
    text = subprocess.run(args, capture_output=True, text=True).stdout
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text)), text


def subcommands(binary):
    text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    names, listing = [], False
    for line in text.splitlines():
        if line == "Subcommands:":
            listing = True
        elif listing and len(line) > 2 and line[2] != " ":
            names.append(line.split()[0])
    return names


def check_ishannot(binary, words, known, cache):
    """Problems with one `ishannot ...` command (empty = fine; None = skipped)."""
    i = 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in GLOBAL_WITH_VALUE else 1
    command = words[i] if i < len(words) else ""
    if command in CNN_COMMANDS and command not in known:
        return None
    if command not in known:
        return [f"unknown subcommand '{command}'"]
    # A command with subcommands of its own (`fetch bdgp`): the options are the inner one's.
    inner = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("-") else ""
    if inner and command in NESTED:
        command = command + " " + inner
    if command not in cache:
        cache[command] = help_options(binary, command)[0]
    if "" not in cache:
        cache[""] = help_options(binary, "")[0]
    problems = []
    for word in words[i + 1:]:
        if word == "--":
            break
        if word.startswith("-") and not re.match(r"^-?\d", word[1:]):
            option = word.split("=")[0]
            if option not in cache[command] and option not in cache[""]:
                problems.append(f"'{command}' has no option {option}")
    return problems


def run_for_real(binary, commands):
    """Runs the cheap commands from a folder outside the checkout; problems."""
    problems = []
    shared = os.path.join(os.path.dirname(REPO), "shared")
    with tempfile.TemporaryDirectory(prefix="ishannot-readme-") as root:
        os.makedirs(os.path.join(root, "bin"))
        os.symlink(os.path.abspath(binary), os.path.join(root, "bin", "ishannot"))
        if os.path.isdir(shared):
            os.symlink(shared, os.path.join(root, "shared"))
        work = os.path.join(root, "work")
        os.makedirs(work)
        # README's "your own images": a few real images sorted into stage subfolders.
        mini = os.path.join(shared, "data", "bdgp-mini", "images")
        if os.path.isdir(mini):
            names = sorted(os.listdir(mini))[:4]
            for k, name in enumerate(names):
                stage = os.path.join(work, "my_images", "13-16" if k % 2 else "4-6")
                os.makedirs(stage, exist_ok=True)
                os.symlink(os.path.join(mini, name), os.path.join(stage, name))
        env = dict(os.environ, PATH=os.path.join(root, "bin") + os.pathsep + os.environ["PATH"])
        for number, text in commands:
            if ("../shared" in text or "my_images" in text) and not os.path.isdir(shared):
                print(f"README.md:{number}: skipped (no ../shared next to the checkout): {text}")
                continue
            r = subprocess.run(text, shell=True, cwd=work, env=env, capture_output=True,
                               text=True, timeout=300)
            status = "ok" if r.returncode == 0 else f"FAILED (exit {r.returncode})"
            print(f"README.md:{number}: ran from {work}: {status}: {text}")
            if r.returncode != 0:
                problems.append(f"README.md:{number}: `{text}` failed: {r.stderr.strip()[:300]}")
    return problems


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "ishannot")
    known = subcommands(binary)
    if not known:
        print(f"check_readme: {binary} --help lists no subcommand", file=sys.stderr)
        return 1
    problems, cheap, cache, checked = [], [], {}, 0
    for number, text in readme_commands(os.path.join(REPO, "README.md")):
        try:
            words = shlex.split(text)
        except ValueError as e:
            problems.append(f"README.md:{number}: cannot be split as a shell command ({e})")
            continue
        if words[0] == "ishannot":
            found = check_ishannot(binary, words, known, cache)
            if found is None:
                print(f"README.md:{number}: skipped (no libtorch in this build): {text}")
                continue
            problems += [f"README.md:{number}: {p}: {text}" for p in found]
            checked += 1
            sub = next((w for w in words[1:] if not w.startswith("-")), "")
            if sub in CHEAP or words[1:] == ["--help"]:
                cheap.append((number, text))
        for word in words[1:]:
            if re.match(r"^(scripts|workflow)/", word) and not os.path.exists(
                    os.path.join(REPO, word)):
                problems.append(f"README.md:{number}: {word} does not exist in the checkout")
    problems += run_for_real(binary, cheap)
    for p in problems:
        print("check_readme: " + p, file=sys.stderr)
    print(f"check_readme: {checked} ishannot commands checked, {len(cheap)} run, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

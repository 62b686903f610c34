#!/usr/bin/env python3
"""Checks an `ishannot export` package outside ishannot: rdf.yaml against the bioimage.io model
schema (tests/fixtures/bioimageio/, JSON Schema checked with python3-jsonschema), and every file it
names (test tensors, weights, attachments: `source` with `sha256`; covers, documentation) exists
in the package with the SHA-256 stated. Prints one line per problem; exit 1 when there is one.
Usage: check_rdf.py PACKAGE_DIR SCHEMA.json"""
import hashlib
import json
import os
import sys

import jsonschema
import yaml


def file_entries(node):
    """Every {source, sha256} mapping in the document."""
    if isinstance(node, dict):
        if "source" in node and "sha256" in node:
            yield node
        for value in node.values():
            yield from file_entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from file_entries(value)


def main():
    package, schema_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(package, "rdf.yaml"), encoding="utf-8") as f:
        rdf = yaml.safe_load(f)
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    problems = []
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(rdf):
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"schema: {where}: {error.message[:300]}")
    named = 0
    for entry in file_entries(rdf):
        named += 1
        path = os.path.join(package, entry["source"])
        if not os.path.isfile(path):
            problems.append(f"{entry['source']}: named in rdf.yaml, not in the package")
            continue
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != entry["sha256"]:
            problems.append(f"{entry['source']}: sha256 {digest}, rdf.yaml says {entry['sha256']}")
    for name in list(rdf.get("covers", [])) + [rdf.get("documentation", "")]:
        if name and not os.path.isfile(os.path.join(package, name)):
            problems.append(f"{name}: named in rdf.yaml, not in the package")
    for p in problems:
        print(p)
    print(f"checked {named} files with sha256; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

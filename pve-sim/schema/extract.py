#!/usr/bin/env python3
"""Write pve-api-extract.json: the return schemas of the PVE API endpoints pvelab uses.

The simulator's conformance test (pve-sim/tests/it/conformance.rs) checks every answer of the
simulator against the `returns` schema Proxmox publishes for that endpoint. The full schema
(apidoc-pve-9.2.json, the pve-docs api-viewer description, 1.4 MB) is not part of this
repository, so the test reads this extract, which is committed beside this script.

Regenerate after adding an endpoint outside the prefixes below, or for a new PVE release:

    python3 pve-sim/schema/extract.py /path/to/apidoc-pve-9.2.json

and commit the result. `--check` compares instead of writing and fails when the committed file
is not what this script makes from the given schema. With `PVE_APIDOC` naming the full schema,
`cargo test -p pvelab-pve-sim` also checks the walk against the full schema and the extract
against it.

Selection, generous on purpose so that endpoints pvelab starts using later are already there:
the exact paths in EXACT, and every path equal to or below a prefix in PREFIXES, with all their
methods.

What is kept: for each endpoint and method, its `returns` schema with the keywords a JSON type
check can use (KEEP_KEYWORDS). What is stripped: request `parameters`, `permissions`,
`description` and every other documentation text, links, and the inline schemas of PVE's
property strings (a dict under `format`; a format *name* is kept). Stripping only removes keys,
so every value left is identical to the full schema's (the Rust test relies on that).

Output: a JSON object, keys sorted, indented, so a regeneration shows as a readable diff.
Only the Python 3 standard library is used: the script runs anywhere without building anything.
"""

import argparse
import hashlib
import json
import os
import sys

EXACT = [
    "/version",
    "/access/ticket",
    "/cluster/resources",
    "/cluster/nextid",
    "/nodes",
    "/nodes/{node}/status",
]

PREFIXES = [
    "/pools",
    "/nodes/{node}/qemu",
    "/nodes/{node}/lxc",
    "/nodes/{node}/storage",
    "/nodes/{node}/tasks",
    "/nodes/{node}/network",
]

KEEP_KEYWORDS = {
    "type",
    "optional",
    "enum",
    "properties",
    "items",
    "additionalProperties",
    "oneOf",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
}

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pve-api-extract.json")


def selected(path):
    """Whether an endpoint path belongs to the extract."""
    return path in EXACT or any(path == p or path.startswith(p + "/") for p in PREFIXES)


def strip(schema):
    """A copy of a schema with only KEEP_KEYWORDS, applied again to every nested schema."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key not in KEEP_KEYWORDS:
            continue
        if key == "properties":
            value = {name: strip(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties"):
            value = strip(value)
        elif key == "oneOf":
            value = [strip(s) for s in value]
        elif key == "format" and not isinstance(value, str):
            continue  # an inline property-string schema: documentation of a string's inside
        out[key] = value
    return out


def collect(nodes, into):
    """Fill `into` with "METHOD /path" -> stripped returns, for the selected endpoints."""
    for node in nodes:
        path = node["path"]
        if selected(path):
            for method, info in node.get("info", {}).items():
                into[f"{method} {path}"] = strip(info.get("returns", {}))
        collect(node.get("children", []), into)


def build(schema_path):
    with open(schema_path, "rb") as f:
        raw = f.read()
    tree = json.loads(raw)
    returns = {}
    collect(tree, returns)
    missing = [p for p in EXACT if not any(k.split(" ", 1)[1] == p for k in returns)]
    if missing:
        sys.exit(f"{schema_path}: no endpoint {', '.join(missing)}; is this the PVE API schema?")
    extract = {
        "about": "Return schemas of the PVE API endpoints pvelab uses, made by "
        "pve-sim/schema/extract.py from the full schema named in `source`; do not edit by hand.",
        "source": {
            "file": os.path.basename(schema_path),
            "sha256": hashlib.sha256(raw).hexdigest(),
        },
        "selection": {"exact": EXACT, "prefixes": PREFIXES},
        "kept_keywords": sorted(KEEP_KEYWORDS),
        "returns": returns,
    }
    return json.dumps(extract, indent=1, sort_keys=True) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("schema", help="the full PVE API schema (apidoc-pve-9.2.json)")
    parser.add_argument("--output", default=OUTPUT, help="where to write (default: %(default)s)")
    parser.add_argument(
        "--check", action="store_true", help="fail if the output file differs instead of writing"
    )
    args = parser.parse_args()
    text = build(args.schema)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            sys.exit(f"cannot read {args.output}: {e}")
        if current != text:
            sys.exit(f"{args.output} is out of date; run: python3 {sys.argv[0]} {args.schema}")
        print(f"{args.output} is up to date")
        return
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    count = len(json.loads(text)["returns"])
    print(f"wrote {args.output}: {count} endpoints")


if __name__ == "__main__":
    main()

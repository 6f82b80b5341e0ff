#!/usr/bin/env python3
"""Fails when a library folder includes a folder below which it does not sit.

The layers and what each depends on come from CMake (layers.txt in the build
folder, written by pcapml_layer() in CMakeLists.txt): a file in folder X may
include X/... and the folders X depends on, directly or through others. The
.so plugins in plugins/ may include only plugins/ (they are built against the
public header alone); every library may include that header,
plugins/pcapml_plugin.h, from plugin_host up. Unit tests (*_test.cc) and test
helpers link everything and are not checked.

It also fails when the docs and the folders disagree: the README's
Architecture section must name every library folder, in layer order, and
plugins/; docs/internals.md's Architecture list every top-level folder.

Usage: check_layers.py SOURCE_DIR LAYERS_TXT
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def closure(table):
    out = {}

    def visit(name, seen):
        for d in table.get(name, ()):
            if d not in seen:
                seen.add(d)
                visit(d, seen)
        return seen

    for name in table:
        out[name] = visit(name, set())
    return out


def is_test(path):
    base = os.path.basename(path)
    return base.endswith("_test.cc") or base.startswith("test_") or "/testing/" in path


def section(path, heading):
    """The text of path's Markdown section under heading, up to the next heading of its level."""
    text = open(path, encoding="utf-8").read()
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    end = text.find("\n" + level + " ", start + len(heading))
    return text[start:end if end >= 0 else len(text)]


def docs_errors(source, libraries):
    """What the README's and docs/internals.md's Architecture sections miss or misorder."""
    errors = []
    readme = section(os.path.join(source, "README.md"), "## Architecture")
    named = [m.group(1) for m in re.finditer(r"`(\w+)/`", readme)]
    order = list(dict.fromkeys(n for n in named if n in libraries))  # first mentions
    if order != libraries:
        errors.append(f"README.md, Architecture: names the library folders as {order}, not {libraries}")
    if "plugins" not in named:
        errors.append("README.md, Architecture: does not name plugins/")
    ignored = {l.strip().strip("/") for l in open(os.path.join(source, ".gitignore")) if l.strip()}
    folders = sorted(d for d in os.listdir(source) if os.path.isdir(os.path.join(source, d)) and
                     not d.startswith(".") and d not in ignored and not d.startswith("build-"))
    internals = section(os.path.join(source, "docs", "internals.md"), "## Architecture")
    listed = set(re.findall(r"(?:^ {4}|, )(\w+)/", internals, re.M))
    for d in folders:
        if d not in listed:
            errors.append(f"docs/internals.md, Architecture: does not list the folder {d}/")
    return errors


def main():
    source, layers_txt = sys.argv[1], sys.argv[2]
    table = {}
    for line in open(layers_txt):
        name, _, deps = line.partition(":")
        if name.strip():
            table[name.strip()] = deps.replace(";", " ").split()
    allowed = closure(table)
    errors = []
    folders = list(table) + ["plugins"]
    for folder in folders:
        root = os.path.join(source, folder)
        for dirpath, _, files in os.walk(root):
            for f in sorted(files):
                if not f.endswith((".cc", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, source)
                if is_test(rel):
                    continue
                text = open(path, encoding="utf-8").read()
                for m in INCLUDE.finditer(text):
                    inc = m.group(1)
                    top = inc.split("/")[0] if "/" in inc else None
                    if top is None or top == folder:
                        continue  # generated headers (version.h) and the folder's own
                    line = text.count("\n", 0, m.start()) + 1
                    if folder == "plugins":
                        ok = False
                    elif inc == "plugins/pcapml_plugin.h":
                        ok = folder == "plugin_host" or "plugin_host" in allowed[folder]
                    else:
                        ok = top in allowed[folder]
                    if not ok:
                        errors.append(f"{rel}:{line}: includes {inc}, but {folder}/ does not sit above {top}/")
    docs = docs_errors(source, list(table))
    for e in errors + docs:
        print(e)
    print(f"{len(errors)} layering violations in {len(folders)} folders; {len(docs)} disagreements of the docs")
    return 1 if errors or docs else 0


if __name__ == "__main__":
    sys.exit(main())

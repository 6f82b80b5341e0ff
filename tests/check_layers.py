#!/usr/bin/env python3
"""Fails when a library folder includes a folder below which it does not sit.

The layers and what each depends on come from CMake (layers.txt in the build
folder, written by pcapml_layer() in CMakeLists.txt): a file in folder X may
include X/... and the folders X depends on, directly or through others. The
.so plugins in plugins/ may include only plugins/ (they are built against the
public header alone); every library may include that header,
plugins/pcapml_plugin.h, from plugin_host up. Unit tests (*_test.cc) and test
helpers link everything and are not checked.

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
    for e in errors:
        print(e)
    print(f"{len(errors)} layering violations in {len(folders)} folders")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build a .ipynb (no outputs, Deno kernel) from a plain-text source.

Cells are separated by lines '// %% [markdown]' or '// %%'; markdown lines start with '// '.
Usage: mknb.py SRC.ts OUT.ipynb
Keeping notebook sources as plain text makes them easy to review and diff.
"""
import json, sys

def cells(text):
    out, kind, buf = [], None, []
    def flush():
        if kind is not None:
            src = "\n".join(buf).strip("\n")
            if kind == "markdown":
                src = "\n".join(l[3:] if l.startswith("// ") else l[2:] if l.startswith("//") else l for l in src.split("\n"))
            c = {"cell_type": kind, "metadata": {}, "source": src.splitlines(keepends=True)}
            if kind == "code":
                c["execution_count"] = None
                c["outputs"] = []
            out.append(c)
    for line in text.split("\n"):
        if line.startswith("// %%"):
            flush()
            kind, buf = ("markdown" if "[markdown]" in line else "code"), []
        else:
            buf.append(line)
    flush()
    return out

src, dst = sys.argv[1], sys.argv[2]
nb = {
    "cells": cells(open(src).read()),
    "metadata": {
        "kernelspec": {"display_name": "Deno", "language": "typescript", "name": "deno"},
        "language_info": {"name": "typescript", "file_extension": ".ts",
                          "mimetype": "text/x.typescript", "pygments_lexer": "typescript"},
    },
    "nbformat": 4, "nbformat_minor": 5,
}
for i, c in enumerate(nb["cells"]):
    c["id"] = f"c{i:03d}"
json.dump(nb, open(dst, "w"), indent=1, ensure_ascii=False)
open(dst, "a").write("\n")

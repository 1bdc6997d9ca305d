#!/usr/bin/env python3
"""tests/structure_limits.py: the size and shape rules of the product's C code that the build
does not check (README, "What lives where"):

  - no .c file over 800 lines;
  - no function over 80 lines (from the line that names it to its closing brace);
  - no two files calling each other in a circle, directly or through others: file A "calls"
    file B when A's object needs a symbol that B's object defines (nm), so the graph is the
    linker's own, not a guess from the text.

    python3 tests/structure_limits.py OBJDIR      (OBJDIR: build/rel or build/san)

The product's folders are those of the objects under OBJDIR (tests/ and the embedded data
left out). Prints "ok ..." or "FAIL ..." per check and "RESULT passed=N failed=M".
"""
import os
import re
import subprocess
import sys

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + detail if detail else ""))


def strip_code(text):
    """The text with comments, strings and character constants blanked (newlines kept), so
    that braces and parentheses in them are not counted."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    """(name, first line, lines) of each function defined in a C file: a brace at file level
    whose head (the text since the previous file-level ';', '}' or directive) has a parameter
    list and no '=' (an initialiser) and does not begin a type."""
    code = strip_code(open(path, encoding="utf-8", errors="replace").read())
    code = re.sub(r"(?m)^[ \t]*#.*(\\\n.*)*$", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
    found = []
    depth = 0
    head_start = 0
    start = None
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                head = code[head_start:i]
                m = re.search(r"(\w+)\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*(__attribute__.*)?$",
                              head.strip(), re.S)
                first = head.strip().split(None, 1)[0] if head.strip() else ""
                if m and "=" not in head and first not in ("struct", "enum", "union", "typedef"):
                    name = m.group(1)
                    line = code.count("\n", 0, head_start + head.find(name)) + 1
                    start = (name, line)
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if start:
                    end = code.count("\n", 0, i) + 1
                    found.append((start[0], start[1], end - start[1] + 1))
                start = None
                head_start = i + 1
        elif c == ";" and depth == 0:
            head_start = i + 1
    return found


def nm_symbols(obj):
    """(defined, undefined) global symbols of an object."""
    out = subprocess.run(["nm", "-g", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCVWG":
            defined.add(parts[2])
    return defined, undefined


def circles(graph):
    """The strongly connected components of more than one file (Tarjan, iterative)."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
    return comps


def main():
    if len(sys.argv) != 2:
        print("usage: structure_limits.py OBJDIR", file=sys.stderr)
        return 2
    objdir = sys.argv[1].rstrip("/")
    objs = []
    for root, dirs, files in os.walk(objdir):
        dirs[:] = [d for d in dirs if d != "tests"]
        for f in files:
            if f.endswith(".o") and f != "embed.o":
                objs.append(os.path.join(root, f))
    sources = sorted(os.path.relpath(o, objdir)[:-2] + ".c" for o in objs)
    sources = [s for s in sources if os.path.exists(s)]
    check("the product's objects are there to read (%d files under %s)" % (len(sources), objdir),
          len(sources) >= 20, "build first: make all")
    if len(sources) < 20:
        return 1

    long_files = []
    long_functions = []
    for src in sources:
        lines = open(src, encoding="utf-8", errors="replace").read().count("\n")
        if lines > MAX_FILE_LINES:
            long_files.append("%s (%d lines)" % (src, lines))
        for name, line, n in functions(src):
            if n > MAX_FUNCTION_LINES:
                long_functions.append("%s:%d %s (%d lines)" % (src, line, name, n))
    check("no .c file over %d lines" % MAX_FILE_LINES, not long_files, "; ".join(long_files))
    check("no function over %d lines" % MAX_FUNCTION_LINES, not long_functions,
          "; ".join(long_functions))
    # The counter itself, on a case of each kind, so that a check above cannot pass by
    # finding nothing.
    seen = {name: n for name, _, n in functions("server/main.c")}
    check("the function counter finds main() in server/main.c", "main" in seen, repr(seen))

    defs, needs = {}, {}
    for src in sources:
        d, u = nm_symbols(os.path.join(objdir, src[:-2] + ".o"))
        defs[src], needs[src] = d, u
    owner = {}
    for src, d in defs.items():
        for sym in d:
            owner.setdefault(sym, src)
    graph = {src: set() for src in sources}
    for src, u in needs.items():
        for sym in u:
            o = owner.get(sym)
            if o and o != src:
                graph[src].add(o)
    edges = sum(len(v) for v in graph.values())
    check("the call graph between files was read (%d arrows)" % edges, edges >= 50)
    comps = circles(graph)
    detail = []
    for comp in comps:
        ties = []
        for a in comp:
            for b in sorted(graph[a]):
                if b in comp:
                    syms = sorted(s for s in needs[a] if owner.get(s) == b)
                    ties.append("%s -> %s (%s)" % (a, b, ", ".join(syms[:4])))
        detail.append("[" + "; ".join(ties) + "]")
    check("no files calling each other in a circle", not comps, " ".join(detail))
    print("RESULT passed=%d failed=%d" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

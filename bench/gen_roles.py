#!/usr/bin/env python3
"""gen_roles.py: role bodies for the scale benchmark of bench/run, one JSON object a line.

  bench/gen_roles.py N > roles.ndjson

Each role is the default role (data/edge-ai-engineer.json) with its own slug and title
("bench-role-00042", "Bench Role 00042 <word>"), no aliases, and task and evidence scores
varied with its number, so that scores and zones spread over the range that list filters
and search see. Deterministic: the same N gives the same file.
"""
import json
import os
import sys

WORDS = ["Analyst", "Engineer", "Designer", "Manager", "Nurse", "Technician", "Writer",
         "Scientist", "Operator", "Planner", "Auditor", "Editor"]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "data", "edge-ai-engineer.json")) as f:
        base = json.load(f)
    out = sys.stdout
    for i in range(1, n + 1):
        r = json.loads(json.dumps(base))
        r["slug"] = f"bench-role-{i:05d}"
        r["title"] = f"Bench Role {i:05d} {WORDS[i % len(WORDS)]}"
        r.pop("aliases", None)
        a = r["assessment"]
        for k, t in enumerate(a["tasks"]):
            t["score"] = 1 + (i * 7 + k * 3) % 5
        for k, name in enumerate(sorted(a["evidence"])):
            a["evidence"][name]["score"] = (i + k) % 5 - 2
        out.write(json.dumps(r, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()

"""`aijri score FILE|-|--default`: the score block of an assessment without a server, and
the strict reading of bad input (exit 2, every broken field named on stderr)."""
import atexit
import copy
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, check, check_eq, run, run_cli, seed_role, test  # noqa: E402

SEED = os.path.join(ROOT, "data", "edge-ai-engineer.json")
TMP = tempfile.mkdtemp(prefix="aijri-score-cli-")
atexit.register(shutil.rmtree, TMP, True)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def score_ok(*args, input=None):
    p = run_cli("score", *args, input=input, check_rc=0)
    try:
        return json.loads(p.stdout)
    except ValueError:
        check(False, f"stdout is not JSON: {p.stdout[:300]!r}")
        return {}


def check_seed_block(b):
    check_eq(b.get("score"), 55.2, "score")
    check_eq(b.get("score_exact"), 55.1576, "score_exact")
    check_eq(b.get("zone"), "green", "zone")
    check_eq(b.get("label"), "Green (Transforming)", "label")
    check_eq(b.get("weighted_task_score"), 2.25, "W")
    check_eq(b.get("task_resistance"), 3.75, "TR")
    check_eq(b.get("evidence"), {"total": 5, "modifier": 1.2}, "evidence")
    check_eq(b.get("barriers"), {"total": 2, "modifier": 1.04, "strength": "Weak"}, "barriers")
    check_eq(b.get("protective"), {"total": 3}, "protective")
    check_eq(b.get("growth"), {"score": 1, "modifier": 1.05,
                               "wording": "AI slightly boosts jobs"}, "growth")
    check_eq(b.get("raw"), 4.914, "raw")
    check_eq(b.get("share_scoring_3plus"), 25, "S3")
    check_eq(b.get("impact"), {"displaced": 5, "augmented": 90, "not_involved": 5}, "impact")
    check_eq(b.get("composition"), {"task_resistance": 37.5, "evidence": 10.0, "barriers": 3.0,
                                    "protective": 3.3, "growth": 2.5}, "composition")
    check_eq(b.get("override"), None, "override")
    check_eq(b.get("formula"), {"score": 55.2, "zone": "green", "label": "Green (Transforming)"},
             "formula: API.md's three members")
    check_eq(b.get("method_version"), "1", "method_version")
    check("revision" not in b and "updated_at" not in b, "revision/updated_at present offline")


@test
def seed_file_scores_55_2():
    p = run_cli("score", SEED, check_rc=0)
    out = p.stdout.decode()
    # The exact printed figures, as a user reads them (no 55.200000000000003, 10.0 kept).
    check('"score": 55.2,' in out, out[:400])
    check('"evidence": 10.0,' in out, "composition evidence printed as 10.0")
    check('"raw": 4.914,' in out, "raw printed as 4.914")
    check(out.startswith("{\n  \""), "pretty-printed with 2 spaces")
    b = json.loads(out)
    check_seed_block(b)
    check_eq(b.get("role"), "edge-ai-engineer", "role")
    check_eq(b.get("title"), "Edge AI Engineer", "title")


@test
def bare_assessment_from_stdin():
    body = json.dumps(seed_role()["assessment"]).encode()
    b = score_ok("-", input=body)
    check_seed_block(b)
    check_eq(b.get("role"), None, "role of a bare assessment")


@test
def role_body_with_only_an_assessment():
    body = json.dumps({"assessment": seed_role()["assessment"]}).encode()
    b = score_ok("-", input=body)
    check_eq(b.get("score"), 55.2, "score")
    check_eq(b.get("title"), None, "title")


@test
def default_data():
    b = score_ok("--default")
    check_seed_block(b)
    check_eq(b.get("role"), "edge-ai-engineer", "role")


@test
def help_and_usage():
    p = run_cli("score", "--help", check_rc=0)
    check(b"usage: aijri score" in p.stdout, p.stdout[:200])
    p = run_cli("score", check_rc=2)
    check(b"usage" in p.stderr, "usage on stderr without an argument")


@test
def override_is_published_formula_kept():
    role = seed_role()
    role["assessment"]["override"] = {"score": 20.04, "reason": "assessor judgement"}
    b = score_ok("-", input=json.dumps(role).encode())
    check_eq(b.get("score"), 20.0, "published")
    check_eq(b.get("zone"), "red", "zone")
    check_eq(b.get("label"), "Red (Declining)", "label")
    check_eq(b.get("override"), {"score": 20.04, "reason": "assessor judgement"}, "override")
    check_eq(b.get("formula", {}).get("score"), 55.2, "formula score")
    check_eq(b.get("formula", {}).get("label"), "Green (Transforming)", "formula label")


@test
def malformed_json():
    path = write("malformed.json", '{\n  "tasks": [1,\n  }\n')
    p = run_cli("score", path, check_rc=2)
    err = p.stderr.decode()
    check("line 3" in err and "column" in err, f"no line and column: {err!r}")
    check_eq(p.stdout, b"", "stdout")


@test
def integer_too_big_is_named_as_post_score_names_it():
    role = seed_role()
    text = json.dumps(role).replace('"score": 1, "rationale"', '"score": 99999999999999999999999, '
                                    '"rationale"', 1)
    check("99999999999999999999999" in text, "the fixture has the huge integer")
    p = run_cli("score", "-", input=text.encode(), check_rc=2)
    err = p.stderr.decode()
    check("must be an integer" in err and "malformed" not in err,
          f"a number out of range, named like any other: {err!r}")
    check_eq(p.stdout, b"", "stdout")


@test
def out_of_range_and_unknown_fields():
    role = seed_role()
    a = role["assessment"]
    a["tasks"][2]["score"] = 6
    a["evidence"]["wage_trends"]["score"] = 3
    a["barriers"]["regulatory"]["score"] = -1
    a["growth"]["score"] = 2.5
    a["evidence"]["hype"] = {"score": 1}
    a["tasks"][0]["weight"] = 1
    role["colour"] = "green"
    p = run_cli("score", "-", input=json.dumps(role).encode(), check_rc=2)
    lines = p.stderr.decode().splitlines()
    for want in ("assessment.tasks[2].score: must be an integer from 1 to 5",
                 "assessment.evidence.wage_trends.score: must be an integer from -2 to 2",
                 "assessment.barriers.regulatory.score: must be an integer from 0 to 2",
                 "assessment.growth.score: must be an integer",
                 "assessment.evidence.hype: unknown evidence dimension",
                 "assessment.tasks[0].weight: unknown field",
                 "colour: unknown field"):
        check(want in lines, f"missing {want!r} in {lines!r}")
    check_eq(len(lines), 7, "one line per broken field")
    check_eq(p.stdout, b"", "stdout")


@test
def bare_assessment_errors_have_no_prefix():
    a = copy.deepcopy(seed_role()["assessment"])
    del a["protective"]["moral_judgment"]
    a["tasks"][1]["time_share"] = "20"
    p = run_cli("score", "-", input=json.dumps(a).encode(), check_rc=2)
    err = p.stderr.decode()
    check("protective.moral_judgment: is required" in err, err)
    check("tasks[1].time_share: must be a number" in err, err)
    check("assessment." not in err, err)


@test
def shares_not_adding_to_100():
    a = seed_role()["assessment"]
    a["tasks"][0]["time_share"] = 20
    path = write("shares.json", json.dumps(a))
    p = run_cli("score", path, check_rc=2)
    check_eq(p.stderr.decode().strip(),
             "tasks: time shares add up to 95, must add up to 100", "stderr")


@test
def missing_file():
    p = run_cli("score", os.path.join(TMP, "no-such-file.json"), check_rc=2)
    check(b"no-such-file.json" in p.stderr, p.stderr[:300])
    check_eq(p.stdout, b"", "stdout")


run()

#!/usr/bin/env python3
"""GET /metrics passes Prometheus's own linter, `promtool check metrics` (Debian's prometheus
package; deploy/setup-debian.sh --test installs it), with every family the README names present
and in use: requests of several routes and statuses, the latency histogram, the write counter,
and webhook deliveries by outcome.

    python3 tests/api/test_metrics.py [TEST_NAME...]

Without promtool the check fails, it is not skipped.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Server, check, check_eq, free_port, one_instance, run, test  # noqa: E402

FAMILIES = ("aijri_http_requests_total", "aijri_http_request_duration_seconds",
            "aijri_write_commits_total", "aijri_webhook_deliveries_total",
            "aijri_webhook_queue_depth", "aijri_webhook_oldest_pending_seconds")


def promtool(text):
    """Runs `promtool check metrics` on text; returns (exit code, what it printed)."""
    tool = shutil.which("promtool")
    if not tool:
        return None, "promtool is not installed (Debian package prometheus)"
    p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


@test
@one_instance
def metrics_pass_promtool():
    with Server(args=["--allow-private-webhooks"],
                env={"AIJRI_WEBHOOK_RETRY_SCHEDULE": "1"}) as srv:
        tok = srv.token()
        srv.get("/roles/edge-ai-engineer/score")
        srv.get("/roles/edge-ai-engineer/score", headers={"If-None-Match": '"r1"'})
        srv.get("/roles/no-such-role")
        srv.request("HEAD", "/roles")
        srv.request("OPTIONS", "/roles")
        srv.request("PATCH", "/roles")
        srv.get("/roles?limit=0")
        r = srv.post("/roles/edge-ai-engineer/evidence",
                     {"dimensions": {"wage_trends": {"score": 2}}, "reason": "metrics"}, token=tok)
        check_eq(r.status, 200, "a write")
        wh = srv.post("/webhooks", {"url": f"http://127.0.0.1:{free_port()}/closed"},
                      token=tok).json or {}
        srv.post(f"/webhooks/{wh.get('id')}/ping", token=tok)
        text = srv.get("/metrics").body
        rc, out = promtool(text)
        check_eq(rc, 0, f"promtool check metrics: {out}")
        check_eq(out.strip(), "", "promtool has nothing to say")
        body = text.decode(errors="replace")
        for family in FAMILIES:
            check(f"# TYPE {family} " in body, f"{family} is not exposed")
        check('status="304"' in body and 'status="405"' in body and 'status="422"' in body,
              "requests by status")
        m = re.search(r"^aijri_write_commits_total (\d+)$", body, re.M)
        check(m and int(m.group(1)) >= 2, f"the writes are counted: {m and m.group(0)}")


@test
def promtool_catches_a_bad_exposition():
    """The linter really lints: a counter without _total is reported."""
    rc, out = promtool(b"# HELP x_count Things.\n# TYPE x_count counter\nx_count 1\n")
    check(rc is not None, out)
    check(rc != 0 and "_total" in out, f"promtool did not object: {rc} {out}")


if __name__ == "__main__":
    run()

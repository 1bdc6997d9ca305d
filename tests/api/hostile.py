"""Hostile texts for the page tests: a role whose every text field holds markup, script,
event handlers and javascript: links, for the API tests (tests/api/test_pages_api.py) and the
browser tests (tests/browser/test_pages.py) to check that all of it renders as text."""
from lib import seed_role

SECTIONS = ["quick_screen", "reinstatement", "growth_check", "calibration", "score_vs_reality",
            "not_captured", "who_should_worry", "outlook", "survival_strategy", "timeline"]

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"
HOSTILE_MD = ("# Heading\n\n<script>alert(3)</script>\n\n<iframe src=\"https://evil.example\">"
              "</iframe>\n\n[click](javascript:alert(4)) [ok](https://example.org/ok) "
              "<javascript:alert(5)> ![img](https://evil.example/i.png) "
              "[rel](/relative) [mail](mailto:a@example.org) <b onclick=alert(6)>bold</b>\n\n"
              "```\n<script>alert(7)</script>\n```")


def hostile_role(slug):
    body = seed_role()
    body.update(slug=slug, title="Role " + HOSTILE, aliases=["Alias " + HOSTILE],
                seniority=HOSTILE, category=HOSTILE, primary_function=HOSTILE,
                not_this_role=HOSTILE, typical_experience=HOSTILE, summary=HOSTILE_MD,
                seniority_note=HOSTILE_MD, commentary={k: HOSTILE_MD for k in SECTIONS},
                sources=[{"title": HOSTILE, "url": "https://example.org/?a=<b>&c=\"d\""}],
                resources=[{"title": HOSTILE, "url": "https://example.org/r"}])
    a = body["assessment"]
    for t in a["tasks"]:
        t["name"] = (t["name"][:40] + HOSTILE)[:200]
        t["rationale"] = HOSTILE
    for part in ("evidence", "barriers", "protective"):
        for d in a[part].values():
            d["rationale"] = HOSTILE
    a["evidence"]["wage_trends"]["sources"] = [{"title": HOSTILE, "url": "https://example.org/w"}]
    a["growth"]["rationale"] = HOSTILE
    a["override"] = {"score": 50, "reason": HOSTILE}
    return body

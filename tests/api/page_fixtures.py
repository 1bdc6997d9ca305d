"""What the page tests (tests/api/test_pages_api.py and, in a browser,
tests/browser/test_pages.py) share: what a reader of the seed's page must find on the role
page (its section headings and figures), and a role whose every text field holds markup,
script, event handlers and javascript: links, all of which must render as text. No test here."""
import re

from lib import seed_role

SECTIONS = ["quick_screen", "reinstatement", "growth_check", "calibration", "score_vs_reality",
            "not_captured", "who_should_worry", "outlook", "survival_strategy", "timeline"]

# The seed's section headings, in the seed's order.
HEADINGS = [
    "Score at a Glance", "Score Composition", "Where This Role Sits", "Role Definition",
    "Protective Principles + AI Growth Correlation", "Human-Only Factors",
    "Task Decomposition (Agentic AI Scoring)", "Work Impact Breakdown", "Evidence Score",
    "Market Signal Balance", "Barrier Assessment", "Structural Barriers to AI",
    "AI Growth Correlation Check", "JobZone Composite Score (AIJRI)", "Score Waterfall",
    "Sub-Label Determination", "Assessor Commentary", "Score vs Reality Check",
    "What the Numbers Don't Capture", "Who Should Worry (and Who Shouldn't)", "What This Means",
    "Sources", "Useful Resources", "Revision History", "Get updates on Edge AI Engineer (Mid-Level)",
]
# Every figure of the seed's page (its script-filled counters are these figures too).
FIGURES = [
    "55.2 /100", "3.75/5", "+5/10", "2/10", "3/9", "+1/2", "PROTECTED", "GREEN (Transforming)",
    "Task Resistance (50%): 37.5", "Evidence (20%): 10.0", "Barriers (15%): 3.0",
    "Protective (10%): 3.3", "AI Growth (5%): 2.5", "Edge AI Engineer (Mid-Level): 55.2",
    "Displaced: 5%", "Augmented: 90%", "Not Involved: 5%", "25% · 2/5 Augmented",
    "5% · 4/5 Displaced", "5% · 1/5 Not Involved", "Protective Total: 3/9",
    "Task Resistance Score: 6.00 - 2.25 = 3.75/5.0",
    "Displacement/Augmentation split: 5% displacement, 90% augmentation, 5% not involved.",
    "Weak 2/10", "Regulatory: 0/2", "Physical: 1/2", "Liability: 1/2",
    "Task Resistance: +37.5pts", "Evidence: +10.0pts", "Barriers: +3.0pts",
    "Protective: +3.3pts", "AI Growth: +2.5pts", "Total: 55.2",
    "1.0 + (5 x 0.04) = 1.20", "1.0 + (2 x 0.02) = 1.04", "1.0 + (1 x 0.05) = 1.05",
    "Raw: 3.75 x 1.20 x 1.04 x 1.05 = 4.9140",
    "JobZone Score: (4.9140 - 0.54) / 7.93 x 100 = 55.2/100",
    "Zone: GREEN (Green >=48, Yellow 25-47, Red <25)",
    "Green (Transforming) — AIJRI >=48, >=20% of task time scores 3+, Growth != 2",
    "Assessor override: None — formula score accepted.",
    "Embodied Physicality: Minimal physical presence",
    "Deep Interpersonal Connection: No human connection needed",
    "Moral Judgment: Significant moral weight", "AI Effect on Demand: AI slightly boosts jobs",
]


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


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

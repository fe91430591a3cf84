"""Every mail as sent scores under 0.5 with SpamAssassin's local rules, none of it for text
coloured like its background (HTML_FONT_LOW_CONTRAST, what a preheader hidden by colour
costs); docs/rendering.md has the scores."""

from __future__ import annotations

import pytest

from mailer.mime import assemble, make_boundary
from tests.templates.sent import NAMES, message
from tests.templates.spam import judge

pytestmark = pytest.mark.usefixtures("spamassassin")


@pytest.mark.parametrize("name", NAMES)
def test_every_mail_scores_clean(name: str) -> None:
    verdict = judge(message(name))
    assert "HTML_FONT_LOW_CONTRAST" not in verdict.rules
    assert verdict.score < 0.5, sorted(verdict.rules)


def test_a_preheader_hidden_by_colour_is_what_scores() -> None:
    """The rule this guards against fires on the way the preheader used to be hidden."""
    hidden_by_colour = (
        '<!DOCTYPE html><html><body style="background-color:#eef1f2">'
        '<div style="display:none; opacity:0; color:#eef1f2; background-color:#eef1f2">'
        "Delegates from eleven countries compared what works when communities recover.</div>"
        "<p>The forum heard how cooperatives keep lending when rainy seasons fail.</p>"
        "</body></html>"
    )
    raw = assemble(
        headers=[
            ("From", "Cooperatives Unit <coop@example.org>"),
            ("To", "amara.diallo@coop-thies.example.net"),
            ("Subject", "Lessons from the Nairobi forum"),
            ("Date", "Tue, 24 Nov 2026 09:30:00 +0000"),
            ("Message-ID", "<forum.1@example.org>"),
        ],
        text="The forum heard how cooperatives keep lending when rainy seasons fail.\n",
        html=hidden_by_colour,
        boundary=make_boundary(),
    )
    assert "HTML_FONT_LOW_CONTRAST" in judge(raw).rules

"""Issue 7 (insights, transparency). Real Chromium: the dashboard and the public report draw
their SVG charts (present, non-zero size) with no JavaScript. Screenshots: test-artifacts/."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wellcheck.checks.inputs import CheckInput
from wellcheck.checks.services import check_create
from wellcheck.testing.personas import World

LA = ZoneInfo("America/Los_Angeles")

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _no_second_factor(settings: Any) -> None:
    """The access tests cover the second factor; these are about the charts."""
    settings.WELLCHECK_MFA_REQUIRED = False


def seed(world: World) -> None:
    outcomes = ("safe_no_action", "advice_given", "mobile_crisis", "resources_offered")
    reasons = (("dementia",), ("mental_health", "suicide_risk"), ("older_not_seen",))
    for i in range(60):
        unit, actor = (world.unit_a, world.officer_a) if i % 3 else (world.unit_b, world.officer_b)
        when = dt.datetime(2023, 1 + i % 2, 1 + (i * 7) % 28, (i * 5) % 24, tzinfo=LA)
        check_create(
            actor=actor,
            data=CheckInput(
                unit_id=unit.pk,
                received_at=when,
                initiator=("family", "neighbour", "self")[i % 3],
                reasons=reasons[i % 3],
                outcome=outcomes[i % 4],
                mental_health_related=i % 3 == 1,
                arrived_at=when + dt.timedelta(minutes=5 + i % 40),
                cleared_at=when + dt.timedelta(minutes=50),
            ),
        )


def drawn_svgs(page: Any) -> list[dict[str, float]]:
    return page.eval_on_selector_all(
        "svg.chart",
        """els => els.map(e => {
            const r = e.getBoundingClientRect();
            return {w: r.width, h: r.height, marks: e.querySelectorAll(
                'rect.chart-bar, path.chart-line, rect.chart-cell, polygon.chart-hex').length};
        })""",
    )


def test_dashboard_and_public_page_draw_charts(
    page: Any, browser: Any, live_server: Any, world: World, sign_in: Any, screenshot: Any
) -> None:
    seed(world)
    sign_in(page, world.analyst)
    page.goto(f"{live_server.url}/insights/?from=2023-01&to=2023-02")
    assert page.get_by_role("heading", name="Trends and resource needs").is_visible()
    svgs = drawn_svgs(page)
    assert len(svgs) >= 14
    assert all(s["w"] > 0 and s["h"] > 0 for s in svgs), svgs
    assert sum(1 for s in svgs if s["marks"] > 0) >= 12
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard is {width}px wide on a 390px screen"
    page.locator("#panel-outcome summary").click()
    assert page.locator("#panel-outcome table.numbers").is_visible()
    screenshot(page, "insights-dashboard-phone")

    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        wide = desktop.new_page()
        sign_in(wide, world.analyst)
        wide.goto(f"{live_server.url}/insights/?from=2023-01&to=2023-02")
        assert all(s["w"] > 0 and s["h"] > 0 for s in drawn_svgs(wide))
        screenshot(wide, "insights-dashboard-desktop")
    finally:
        desktop.close()

    public = browser.new_context(viewport={"width": 1024, "height": 900})
    try:
        anon = public.new_page()
        anon.goto(f"{live_server.url}/transparency/{world.agency.slug}/2023-01/")
        assert anon.get_by_role("heading", level=1).is_visible()
        svgs = drawn_svgs(anon)
        assert len(svgs) >= 3 and all(s["w"] > 0 and s["h"] > 0 for s in svgs)
        assert sum(s["marks"] for s in svgs) > 0
        assert "Privacy protection" in anon.content()
        screenshot(anon, "transparency-report")
    finally:
        public.close()

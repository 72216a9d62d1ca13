"""The browser fixture itself works: Chromium on a phone viewport reaches the live server."""

from __future__ import annotations

from typing import Any

import pytest

from wellcheck.testing.personas import World


@pytest.mark.browser
def test_officer_signs_in_and_sees_the_check_list(
    page: Any, live_server: Any, world: World, sign_in: Any
) -> None:
    sign_in(page, world.officer_a)
    assert page.viewport_size == {"width": 390, "height": 844}
    assert "/accounts/login/" not in page.url
    assert page.url == live_server.url + "/"
    assert page.get_by_role("button", name="Sign out officer_a").is_visible()

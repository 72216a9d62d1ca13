"""Browser tests: a live WellCheck server and a real Chromium (Debian's ``chromium`` + Playwright).

How to use (any engineer's browser test)::

    import pytest   # nothing else to import: pytest finds these fixtures

    @pytest.mark.browser
    def test_something(page, live_server, world, sign_in, screenshot):
        sign_in(page, world.officer_a)                 # through the real sign-in page
        page.goto(live_server.url + "/")
        page.get_by_role("link", name="New check").click()
        screenshot(page, "my-feature-form")            # test-artifacts/my-feature-form.png

Fixtures:

- ``browser`` (session): one Chromium per run (shared even if another folder re-imports this
  module, as tests/insights/conftest.py does), launched from ``/usr/bin/chromium`` (never
  ``playwright install``: there is no network). Skipped with a clear message when the
  executable is absent, unless the environment sets ``WELLCHECK_REQUIRE_BROWSER`` (CI does):
  then a missing browser FAILS the test instead of hiding it.
- ``page``: a fresh context and page on a 390x844 phone viewport (``PHONE``); each test gets its own
  cookies. ``new_page()`` (fixture ``new_page``) gives another phone page in its own context, for
  a second user in the same test.
- ``live_server`` comes from pytest-django (a real server thread on 127.0.0.1, transactional
  database): data a test creates (``world``) is visible to the server.
- ``sign_in(page, user, password=PASSWORD)``: fills ``/accounts/login/`` and waits until it has
  left the sign-in page. If the sign-in page later asks for more (MFA), extend this helper here so
  every browser test keeps working.
- ``screenshot(page, name)``: a full-page PNG under ``test-artifacts/`` (gitignored) for humans.

Playwright's sync API runs an event loop in the test thread, and Django refuses database calls
from a thread with a running loop; the ``browser`` fixture sets ``DJANGO_ALLOW_ASYNC_UNSAFE`` while
the browser runs (restored when the run ends) so tests, fixtures and database teardown keep working.
Each test that uses ``page`` must carry ``@pytest.mark.browser``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wellcheck.testing.personas import PASSWORD

CHROMIUM = Path(os.environ.get("WELLCHECK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _browser_required() -> bool:
    return bool(os.environ.get("WELLCHECK_REQUIRE_BROWSER"))


def require_chromium(executable: Path = CHROMIUM) -> None:
    """Skip when the browser is absent, with a message saying how to get it; FAIL instead when
    ``WELLCHECK_REQUIRE_BROWSER`` is set (CI), so that a missing browser cannot pass silently."""
    if executable.exists():
        return
    message = (
        f"Chromium not found at {executable}: install Debian's package "
        "(apt-get install -y chromium) to run browser tests"
    )
    if _browser_required():
        pytest.fail(f"{message}; WELLCHECK_REQUIRE_BROWSER is set, so this is a failure.")
    pytest.skip(message)


_SHARED = "_wellcheck_chromium"  # attribute on the pytest config: one browser per test run


@pytest.fixture(scope="session")
def browser(pytestconfig: pytest.Config) -> Any:
    """One Chromium for the whole run, shared even when another test folder loads this module
    again under another name (tests/insights/conftest.py does): Playwright's sync API cannot be
    started twice in one thread. Stopped when the run ends."""
    shared = getattr(pytestconfig, _SHARED, None)
    if shared is not None:
        return shared
    require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - dev dependency missing
        if _browser_required():
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip(f"playwright is not installed: {exc}")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

    def stop() -> None:
        instance.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous

    setattr(pytestconfig, _SHARED, instance)
    pytestconfig.add_cleanup(stop)
    return instance


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[[], Any]]:
    """A factory of further phone pages, each in its own context (a second user's cookies)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(live_server: Any) -> Callable[..., None]:
    def do(page: Any, user: Any, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.locator("form:has(input[name=password]) [type=submit]").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return do


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

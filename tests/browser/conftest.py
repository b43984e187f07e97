"""Browser tests: Debian's Chromium driven by Playwright against the app on the live server.

The app, the Railz emulator and the webhook endpoint all run on pytest-django's live server.
The pipeline's background tasks run as the cluster would run them, each in a worker thread of
its own once enqueued (django-q2's sync mode would run them inside the transaction that
enqueues them, holding SQLite's write lock while the emulator waits for it). Each module gets
one browser.

Without /usr/bin/chromium the tests are skipped, except in CI (`CI` set), where they fail:
CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.pushes import *  # noqa: F403

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "browser-pw"
# Playwright waits this long for an element or a state before failing the test.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests")
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium to run browser tests)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop open on this thread; Django's ORM (used by the
    # test body, never concurrently with it) would otherwise refuse to run beside it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class ThreadWorkers:
    """Stands in for django-q2's `async_task`: each task runs at once in a thread of its own."""

    # async_task's own options, which say how to queue a task rather than what it does.
    QUEUE_OPTIONS = ("task_name", "group", "hook", "timeout", "save", "cluster", "q_options")

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def async_task(self, func: str, *args, **kwargs) -> str:
        from django.db import connections
        from django.utils.module_loading import import_string

        for option in self.QUEUE_OPTIONS:
            kwargs.pop(option, None)

        def run() -> None:
            try:
                import_string(func)(*args, **kwargs)
            except BaseException as exc:  # reported by the test, as the cluster would log it
                self.errors.append(exc)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, name=f"task {func}", daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread.name

    def join(self, timeout: float = 15.0) -> None:
        for thread in list(self.threads):
            thread.join(timeout)


@pytest.fixture
def browser_app(push_emulator, live_server, settings, monkeypatch, push_plain_static):
    """The app on the live server with the seeded emulator, webhooks to itself, and the
    pipeline's tasks run by worker threads; pushes complete a moment after they are accepted."""
    workers = ThreadWorkers()
    monkeypatch.setattr("pushes.queue.async_task", workers.async_task)
    # Long enough for the page to show the push pending, short enough to wait for.
    settings.RAILZ_EMULATOR_PUSH_DELAY_SECONDS = 0.5
    yield live_server
    push_emulator.wait_for_webhooks()
    workers.join()
    assert not workers.errors, workers.errors


@pytest.fixture
def page(chromium, browser_app) -> Iterator:
    from playwright.sync_api import expect

    # Assertions wait as long as actions: their own default (5 s) failed on a shared machine.
    expect.set_options(timeout=TIMEOUT_MS)
    context = chromium.new_context(viewport=VIEWPORT, base_url=browser_app.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def staff_user(username: str, *, superuser: bool = False, perms: tuple[str, ...] = ()):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user(
        username, password=PASSWORD, is_staff=True, is_superuser=superuser
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return user


def log_in(page, username: str) -> None:
    """Log in with the keyboard only: type, Tab, type, Enter."""
    page.goto("/admin/login/")
    page.locator("#id_username").fill(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")


# The outermost elements that reach past the right edge, and where they are, to say what to fix.
_TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > innerWidth
          && e.parentElement.getBoundingClientRect().right <= innerWidth)
  .slice(0, 5)
  .map(e => {
    const where = [];
    for (let n = e; n && n !== document.body && where.length < 4; n = n.parentElement) {
      const name = n.className ? "." + String(n.className).split(" ")[0] : n.localName;
      where.unshift(n.id ? "#" + n.id : name);
    }
    return `${where.join(" > ")} ends at ${Math.round(e.getBoundingClientRect().right)}`;
  })
"""


def assert_fits_the_screen(page) -> None:
    """Nothing to scroll sideways on a 1280-pixel laptop screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    too_wide = page.evaluate(_TOO_WIDE) if width > VIEWPORT["width"] else []
    assert width <= VIEWPORT["width"], f"{page.url} is {width} pixels wide: {too_wide}"


def screenshot(page, name: str) -> Path:
    """What a 1280 x 800 laptop screen shows, written to test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sync_refs(connection_uuid: str) -> None:
    """Mirror the demo business's reference data from the emulator, as the schedule would."""
    from refs.models import Connection
    from refs.services import connection_sync, connections_discover

    connections_discover()
    connection_sync(connection=Connection.objects.get(connection_uuid=connection_uuid))


# Boxes that scroll sideways inside a page that itself fits (a wide table in a narrow box).
_SCROLLING_BOXES = """() => [...document.querySelectorAll("body *")]
  .filter(e => ["auto", "scroll"].includes(getComputedStyle(e).overflowX)
          && e.scrollWidth > e.clientWidth + 1 && e.clientHeight > 0)
  .slice(0, 5)
  .map(e => `${e.localName}${e.id ? "#" + e.id : ""}.${String(e.className).split(" ")[0]}`
            + ` shows ${e.clientWidth} of ${e.scrollWidth} pixels`)
"""


def assert_nothing_scrolls_sideways(page) -> None:
    """The page fits, and nothing in it hides columns behind a sideways scroll bar."""
    assert_fits_the_screen(page)
    boxes = page.evaluate(_SCROLLING_BOXES)
    assert not boxes, f"{page.url} scrolls sideways inside: {boxes}"


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"

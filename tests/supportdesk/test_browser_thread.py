"""The browser tests run beside Django as any sync code does: no switch lets an ORM call pass on an event loop."""

import asyncio

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation

from tests.browser import expect


def test_a_browser_test_uses_the_orm_between_page_calls_without_djangos_async_switch(browser_context, db):
    page = browser_context.new_page()
    page.set_content("<p id=greeting>Hello</p>")
    expect(page.locator("#greeting")).to_have_text("Hello")

    # Django's guard is on: an ORM call from async code is refused here as on a server's event loop.
    async def from_async_code():
        get_user_model().objects.count()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(from_async_code())
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise AssertionError("an event loop runs in the tests' thread")
    get_user_model().objects.create_user("browser-thread")
    assert get_user_model().objects.filter(username="browser-thread").exists()

    handled = []
    page.on("console", lambda message: handled.append(message.text))
    page.evaluate("console.log('from the page')")
    page.wait_for_timeout(100)
    assert handled == ["from the page"]
    page.close()

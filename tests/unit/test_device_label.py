"""A device's name from its User-Agent, as the devices list shows it."""

from __future__ import annotations

import pytest

from services.tokens import device_label

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HEADLESS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36")


@pytest.mark.parametrize(("agent", "label"), [
    (IPHONE, "Safari on iPhone (link)"),  # before "Mac OS": iPhones say "like Mac OS X"
    (EDGE, "Edge on Windows (link)"),  # before Chrome and Safari, which Edge also names
    (FIREFOX, "Firefox on Linux (link)"),
    (HEADLESS, "Chrome on Linux (link)"),
    ("curl/8.5.0", "a browser (link)"),
    (None, "a browser (link)"),
])
def test_a_device_is_named_by_browser_and_system(agent: str | None, label: str) -> None:
    assert device_label(agent, "link") == label

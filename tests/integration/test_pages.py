"""The pages share one header (menu, athlete switcher, sign out) and one sign-in form, put in
by the server; each marks its own menu link as the current page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from services.api.routes_dashboard import PAGES

SHARED = {"header": r'<a class="skip".*?</header>',
          "sign-in": r'<section id="signin".*?</section>'}


def test_every_page_carries_the_same_header_and_sign_in(client: TestClient) -> None:
    found: dict[str, dict[str, str]] = {name: {} for name in SHARED}
    for path in [p for p in PAGES if p != "/sign-in"]:  # the link's page: no menu, no form
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        html = response.text
        assert "{{" not in html, path
        current = re.findall(r'<a href="([^"]*)" aria-current="page">', html)
        assert current == [path], path
        for name, pattern in SHARED.items():
            parts = re.findall(pattern, html, flags=re.S)
            assert len(parts) == 1, (path, name)
            found[name][path] = parts[0].replace(' aria-current="page"', "")
    for name, by_page in found.items():
        assert len(set(by_page.values())) == 1, f"the {name} differs between pages"
    assert 'href="/log"' in found["header"]["/"]
    assert 'id="signout"' in found["header"]["/"]
    assert 'id="token"' in found["sign-in"]["/week"]

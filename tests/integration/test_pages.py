"""The pages share one ``<head>`` boilerplate, one header (menu, athlete switcher, sign out), one
sign-in form and (dashboard and week) one readiness panel, put in by the server; each marks
its own menu link as the current page, and no page copies the shared markup."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from services.api.routes_dashboard import INCLUDES, PAGES, STATIC

MENU_PAGES = [p for p in PAGES if p != "/sign-in"]  # the link's page: no menu, no form
#: shared part -> (the pattern that finds it in a served page, the pages that carry it)
SHARED = {
    "_head.html": (r'(?<=<head>\n)\s*<meta charset.*?</script>', list(PAGES)),
    "_header.html": (r'<a class="skip".*?</header>', MENU_PAGES),
    "_signin.html": (r'<section id="signin".*?</section>', MENU_PAGES),
    "_readiness.html": (r'<section id="readiness".*?</section>', ["/", "/week"]),
}


def shared_markup(part: str) -> str:
    return (STATIC / part).read_text(encoding="utf-8").strip()


def test_every_page_carries_the_same_shared_parts(client: TestClient) -> None:
    assert set(INCLUDES.values()) == set(SHARED)
    found: dict[str, dict[str, str]] = {part: {} for part in SHARED}
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        html = response.text
        assert "{{" not in html, path
        current = re.findall(r'<a href="([^"]*)" aria-current="page">', html)
        assert current == ([path] if path in MENU_PAGES else []), path
        for part, (pattern, pages) in SHARED.items():
            if path not in pages:
                continue
            parts = re.findall(pattern, html, flags=re.S)
            assert len(parts) == 1, (path, part)
            found[part][path] = parts[0].replace(' aria-current="page"', "")
            assert shared_markup(part) in found[part][path], (path, part)
    for part, by_page in found.items():
        assert len(set(by_page.values())) == 1, f"{part} differs between pages"
    assert 'href="/log"' in found["_header.html"]["/"]
    assert 'id="signout"' in found["_header.html"]["/"]
    assert 'id="token"' in found["_signin.html"]["/week"]
    assert 'id="criteria"' in found["_readiness.html"]["/week"]


def test_no_page_copies_the_shared_markup() -> None:
    """A shared part's lines (but short generic ones such as ``</section>``) are in no page's
    source: a page says ``{{readiness}}``, it does not paste the panel."""
    lines = {part: {line.strip() for line in shared_markup(part).splitlines()
                    if len(line.strip()) >= 24 and not line.strip().startswith("</")}
             for part in SHARED}
    placeholders = {part: name for name, part in INCLUDES.items()}
    for part, (_, pages) in SHARED.items():
        for path in pages:
            source = (STATIC / PAGES[path]).read_text(encoding="utf-8")
            assert source.count(placeholders[part]) == 1, (path, part)
            copied = [line for line in lines[part] if line in source]
            assert copied == [], f"{PAGES[path]} copies {part}: {copied}"

"""Where an integrating engineer starts: /api/ leads to /api/v1/, which links the reference (schema,
Swagger UI, ReDoc), the token's scope and the register before the endpoints; the reference pages load
nothing from another origin (the browser test looks at them in Chromium)."""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db


def test_api_leads_to_the_root_which_links_the_reference_the_token_and_the_register_first(anyone):
    response = anyone.get("/api/")
    assert (response.status_code, response["Location"]) == (302, "/api/v1/")
    links = anyone.get("/api/v1/").json()
    assert list(links)[:6] == ["schema", "swagger-ui", "redoc", "token", "register", "register-export"]
    assert {"purposes", "processing-activities", "records", "consents", "requests"} <= set(links)
    assert all(url.startswith("http://testserver/api/v1/") for url in links.values())
    opened = {key: anyone.get(urlsplit(url).path).status_code for key, url in links.items()}
    assert {key: opened[key] for key in ("schema", "swagger-ui", "redoc")} == dict.fromkeys(
        ("schema", "swagger-ui", "redoc"), 200
    )
    assert {opened[key] for key in ("token", "register", "purposes", "records")} == {401}


def test_redoc_s_script_names_no_other_origin_and_the_site_has_an_icon(anyone):
    page = anyone.get("/api/v1/schema/redoc/").content.decode()
    assert "googleapis" not in page and 'rel="icon"' in page
    script = anyone.get("/api/v1/schema/redoc/redoc.standalone.js")
    assert script.status_code == 200 and script["Content-Type"].startswith("text/javascript")
    body = b"".join(script) if script.streaming else script.content
    assert b"cdn.redoc.ly" not in body and b"/static/ropa/redoc-logo.svg" in body
    assert b'alt:"redocly logo"' in body and len(body) > 500_000  # the real bundle, its logo pointing here
    icon = anyone.get("/favicon.ico")
    assert (icon.status_code, icon["Location"]) == (302, "/static/ropa/favicon.svg")

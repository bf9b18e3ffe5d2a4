"""Browser-facing security with the production settings (tests/settings.py: DEBUG=0).

Every HTML answer (pages, htmx fragments, error pages) carries the security headers and a
strict CSP whose nonce is on every ``<script>``; our templates use no inline styles or
event handlers; sensitive fragments are not cached; htmx is our own copy, configured for
the CSP; and ``check --deploy`` is clean.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client

from tests.commands import manage_py
from tests.conftest import signed_in
from tests.flows import force_logout_fields, signed_target, tags_of
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

BASE_DIR = Path(django_settings.BASE_DIR)
HTMX_SRC = "/static/django_htmx/htmx-2.min.js"


# --- Reading the CSP ----------------------------------------------------------------------


def csp_of(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def nonce_of(csp: dict[str, list[str]]) -> str:
    nonces = [v for v in csp["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1, csp["script-src"]
    return nonces[0].removeprefix("'nonce-").removesuffix("'")


# --- The pages ----------------------------------------------------------------------------


HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"}


class Cast:
    """The signed-in clients and Zoom users a page needs."""

    def __init__(self, helpdesk: User, manager: User, no_role: User, sso_user: SandboxUser):
        self.helpdesk_user = helpdesk
        self.helpdesk = signed_in(helpdesk)
        self.manager = signed_in(manager)
        self.no_role = signed_in(no_role)
        self.sso_user = sso_user


def _server_error(cast: Cast) -> object:
    client = signed_in(cast.helpdesk_user, raise_request_exception=False)
    boom = RuntimeError("a bug in a view")
    with mock.patch("zoomadmin.helpdesk.actions.look_up_user", side_effect=boom):
        return client.get("/", {"q": cast.sso_user.email})


def _csrf_failure(_cast: Cast) -> object:
    client = Client(enforce_csrf_checks=True)
    return client.post("/accounts/login/", {"username": "x", "password": "y"})


PAGES: dict[str, tuple[int, Callable[[Cast], object]]] = {
    "sign-in page": (200, lambda c: Client().get("/accounts/login/")),
    "empty search page": (200, lambda c: c.helpdesk.get("/")),
    "search page with a result": (200, lambda c: c.helpdesk.get("/", {"q": c.sso_user.email})),
    "search page, user not found": (200, lambda c: c.helpdesk.get("/", {"q": "nobody@x.example"})),
    "search page, bad query (400)": (400, lambda c: c.helpdesk.get("/", {"q": "x" * 201})),
    "confirm page": (
        200,
        lambda c: c.helpdesk.get("/force-logout/confirm/", {"target": signed_target(c.sso_user)}),
    ),
    "force-logout outcome page": (
        200,
        lambda c: c.helpdesk.post("/force-logout/", force_logout_fields(c.sso_user)),
    ),
    "bad target page (400)": (
        400,
        lambda c: c.helpdesk.get("/force-logout/confirm/", {"target": "garbage"}),
    ),
    "audit page": (200, lambda c: c.manager.get("/audit/")),
    "audit page, bad filter (400)": (400, lambda c: c.manager.get("/audit/", {"date_from": "x"})),
    "no-role page (403)": (403, lambda c: c.no_role.get("/")),
    "refusal page (403)": (403, lambda c: c.helpdesk.get("/audit/")),
    "not found page (404)": (404, lambda c: c.helpdesk.get("/no-such-page/")),
    "server error page (500)": (500, _server_error),
    "CSRF failure page (403)": (403, _csrf_failure),
    "oversized request (400)": (
        400,
        lambda c: Client().post("/accounts/login/", {"username": "x", "password": "y" * 100_000}),
    ),
}

FRAGMENTS: dict[str, tuple[int, Callable[[Cast], object]]] = {
    "search result fragment": (
        200,
        lambda c: c.helpdesk.get("/", {"q": c.sso_user.email}, headers=HTMX),
    ),
    "search error fragment (400)": (
        400,
        lambda c: c.helpdesk.get("/", {"q": "x" * 201}, headers=HTMX),
    ),
    "confirm fragment": (
        200,
        lambda c: c.helpdesk.get(
            "/force-logout/confirm/", {"target": signed_target(c.sso_user)}, headers=HTMX
        ),
    ),
    "force-logout outcome fragment": (
        200,
        lambda c: c.helpdesk.post("/force-logout/", force_logout_fields(c.sso_user), headers=HTMX),
    ),
    "force-logout reason missing fragment (400)": (
        400,
        lambda c: c.helpdesk.post(
            "/force-logout/", {**force_logout_fields(c.sso_user), "reason": ""}, headers=HTMX
        ),
    ),
    "refusal fragment (403)": (403, lambda c: c.helpdesk.get("/audit/", headers=HTMX)),
}


@pytest.fixture
def cast(
    helpdesk: User, manager: User, no_role: User, sso_user: SandboxUser, sandbox: ZoomSandbox
) -> Cast:
    return Cast(helpdesk, manager, no_role, sso_user)


def fetch(table: dict[str, tuple[int, Callable[[Cast], object]]], name: str, cast: Cast) -> object:
    status, make = table[name]
    response = make(cast)
    assert response.status_code == status, name  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/html"), name  # type: ignore[index]
    return response


# --- Headers on every HTML answer -----------------------------------------------------------


def assert_security_headers(response: object) -> None:
    assert response["X-Frame-Options"] == "DENY"  # type: ignore[index]
    assert response["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert response["Referrer-Policy"] in {  # type: ignore[index]
        "same-origin",
        "no-referrer",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    csp = csp_of(response)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "script-src" in csp
    header = response["Content-Security-Policy"]  # type: ignore[index]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "unsafe-hashes" not in header
    assert "*" not in header.replace("'", "")  # no wildcard sources
    assert "data:" not in csp["script-src"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_html_page_has_the_security_headers_and_a_strict_csp(name: str, cast: Cast) -> None:
    assert_security_headers(fetch(PAGES, name, cast))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_every_htmx_fragment_has_the_security_headers_and_a_strict_csp(
    name: str, cast: Cast
) -> None:
    response = fetch(FRAGMENTS, name, cast)
    assert_security_headers(response)
    assert "<script" not in response.content.decode()  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_script_tag_carries_the_nonce_of_the_csp(name: str, cast: Cast) -> None:
    response = fetch(PAGES, name, cast)
    html = response.content.decode()  # type: ignore[attr-defined]
    scripts = [attrs for tag, attrs in tags_of(html) if tag == "script"]
    assert html.count("<script") == len(scripts)
    if 'name="htmx-config"' in html:  # a page built on base.html: htmx and app.js
        sources = {attrs.get("src") for attrs in scripts}
        assert sources == {HTMX_SRC, "/static/js/app.js"}, sources
    if not scripts:
        return
    nonce = nonce_of(csp_of(response))
    assert len(nonce) >= 16
    for attrs in scripts:
        assert attrs.get("nonce") == nonce, attrs
        assert attrs.get("src"), f"an inline script: {attrs}"


@pytest.mark.django_db(transaction=True)
def test_the_nonce_is_fresh_on_every_response(cast: Cast) -> None:
    first = nonce_of(csp_of(Client().get("/accounts/login/")))
    second = nonce_of(csp_of(Client().get("/accounts/login/")))
    assert first != second


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(PAGES) + sorted(FRAGMENTS))
def test_our_html_has_no_inline_styles_or_event_handlers(name: str, cast: Cast) -> None:
    table = PAGES if name in PAGES else FRAGMENTS
    html = fetch(table, name, cast).content.decode()  # type: ignore[attr-defined]
    tags = tags_of(html)
    assert tags, "no HTML to check"
    for tag, attrs in tags:
        assert "style" not in attrs, f"<{tag}> has an inline style: {attrs}"
        handlers = [a for a in attrs if a.startswith("on")]
        assert not handlers, f"<{tag}> has inline event handlers {handlers}"
        # htmx's hx-on* would need eval, which the htmx config turns off anyway.
        assert not [a for a in attrs if a.startswith(("hx-on", "data-hx-on"))], attrs
        assert tag != "style", "an inline <style> block"
        for attribute in ("href", "src", "action"):
            value = (attrs.get(attribute) or "").strip().lower()
            assert not value.startswith("javascript:"), f"<{tag} {attribute}={value!r}>"


def test_our_templates_contain_no_inline_style_or_handler_markup() -> None:
    templates = sorted((BASE_DIR / "templates").rglob("*.html"))
    assert len(templates) >= 10
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle\s*=", text), template
        assert not re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE), template
        assert "<style" not in text, template
        for match in re.finditer(r"<script\b[^>]*>", text):
            assert 'nonce="{{ csp_nonce }}"' in match[0], (template, match[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("not found page (404)", "There is no page at this address."),
        ("server error page (500)", "check the audit log before trying again"),
        ("oversized request (400)", "it may be too large or malformed"),
    ],
)
def test_error_pages_are_the_apps_own_pages(name: str, text: str, cast: Cast) -> None:
    """templates/errors/ holds the pages an agent should see, the 500 one with its warning
    to check the audit log before forcing a log out again; Django's bare defaults say
    nothing of the sort."""
    html = fetch(PAGES, name, cast).content.decode()  # type: ignore[attr-defined]
    assert text in html


@pytest.mark.django_db
def test_hsts_on_a_secure_request_with_a_long_max_age() -> None:
    response = Client().get("/accounts/login/", secure=True)

    hsts = response["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts)[1])  # type: ignore[index]
    assert max_age >= 365 * 24 * 60 * 60
    assert "includeSubDomains" in hsts


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_but_the_health_probe_is_not(settings: object) -> None:
    settings.SECURE_SSL_REDIRECT = True  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["zoomadmin.example.com"]  # type: ignore[attr-defined]

    response = Client().get("/accounts/login/", HTTP_HOST="zoomadmin.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://zoomadmin.example.com/accounts/login/"

    # Load balancers probe over plain http, by IP.
    probe = Client().get("/healthz", HTTP_HOST="10.0.0.7")
    assert probe.status_code == 200


# --- Caching ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("table", "name"),
    [
        ("fragments", "search result fragment"),
        ("fragments", "confirm fragment"),
        ("fragments", "force-logout outcome fragment"),
        ("pages", "search page with a result"),
        ("pages", "confirm page"),
        ("pages", "force-logout outcome page"),
    ],
)
def test_sensitive_answers_are_never_stored_by_the_browser(
    table: str, name: str, cast: Cast
) -> None:
    response = fetch(FRAGMENTS if table == "fragments" else PAGES, name, cast)
    cache_control = response["Cache-Control"]  # type: ignore[index]
    assert "no-store" in cache_control
    assert "public" not in cache_control


# --- htmx -----------------------------------------------------------------------------------


def htmx_config(html: str) -> dict[str, object]:
    metas = [a for t, a in tags_of(html) if t == "meta" and a.get("name") == "htmx-config"]
    assert len(metas) == 1
    return json.loads(metas[0]["content"] or "")


def handling_for(config: dict[str, object], status: int) -> dict[str, object]:
    """The responseHandling entry htmx 2 applies: the first whose code regex matches."""
    rules = config["responseHandling"]
    assert isinstance(rules, list)
    for rule in rules:
        if re.search(rule["code"], str(status)):
            return rule  # type: ignore[no-any-return]
    raise AssertionError(f"no responseHandling rule for {status}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["sign-in page", "search page with a result", "audit page"])
def test_the_htmx_config_suits_a_strict_csp_and_shows_every_failure(name: str, cast: Cast) -> None:
    config = htmx_config(fetch(PAGES, name, cast).content.decode())  # type: ignore[attr-defined]

    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["historyCacheSize"] == 0
    assert config.get("allowScriptTags") is False
    for status in (400, 403, 404, 409, 429, 500, 502, 503, 504):
        rule = handling_for(config, status)
        assert rule["swap"] is True, (status, rule)
    assert handling_for(config, 200)["swap"] is True
    assert handling_for(config, 204)["swap"] is False


@pytest.mark.django_db
def test_htmx_is_django_htmxs_own_copy_never_a_cdn(settings: object) -> None:
    html = Client().get("/accounts/login/").content.decode()
    sources = [a.get("src") or "" for t, a in tags_of(html) if t == "script"]

    assert HTMX_SRC in sources
    assert all(src.startswith("/static/") for src in sources), sources
    assert "//" not in "".join(sources)
    found = finders.find("django_htmx/htmx-2.min.js")
    assert found is not None
    assert "django_htmx" in Path(str(found)).parts

    # And it is served, as JavaScript, by our own static files (WhiteNoise).
    settings.WHITENOISE_USE_FINDERS = True  # type: ignore[attr-defined]
    settings.WHITENOISE_AUTOREFRESH = True  # type: ignore[attr-defined]
    response = Client().get(HTMX_SRC)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert b"htmx" in body[:200]
    assert re.search(rb'version:"2\.', body)
    assert "javascript" in response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"


# --- The deployment checklist -----------------------------------------------------------------


def production_environment() -> dict[str, str]:
    return {
        "DOTENV_FILE": "",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "zoomadmin.example.com",
        "DATABASE_URL": "sqlite:////tmp/zoomadmin-check-deploy.sqlite3",
    }


def test_check_deploy_finds_nothing_with_the_production_settings() -> None:
    result = manage_py(
        "check", "--deploy", "--fail-level", "WARNING", environ=production_environment()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout

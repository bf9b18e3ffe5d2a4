"""Who may open what: every URL pattern for every role, enumerated from the URL resolver.

The table ``EXPECTED`` names, for each URL pattern (by its URL name, or its route when it
has none) and each role, what that role gets on a GET. The patterns are enumerated from
``get_resolver()`` (the admin's included), so a new view without a row fails
``test_every_url_pattern_has_an_expectation_for_every_role`` before it can ship unprotected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern

from tests.conftest import signed_in
from tests.flows import force_logout_fields, signed_target
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

ROLES = ("anonymous", "no_role", "helpdesk", "manager", "superuser")
SIGN_IN_PATH = "/accounts/login/"
ADMIN_SIGN_IN_PATH = "/admin/login/"


@dataclass(frozen=True)
class Expect:
    """What a GET answers: a status, where a redirect goes, and text the page must show."""

    status: int
    # "sign_in": our sign-in page with ?next=<the requested URL>; "admin_sign_in": the
    # admin's; "any_sign_in": either (anonymous on the admin, whose site views send people
    # to the admin login while the model views meet our login-required middleware first);
    # any other value: exactly this Location.
    redirect: str | None = None
    text: str | None = None


OK = Expect(200)
SIGN_IN = Expect(302, redirect="sign_in")
ADMIN_SIGN_IN = Expect(302, redirect="admin_sign_in")
ANY_SIGN_IN = Expect(302, redirect="any_sign_in")
NO_ROLE = Expect(403, text="You have no role in zoomadmin")
NEEDS_MANAGERS = Expect(403, text="This needs the Administrator or Managers role.")
NEEDS_ADMINISTRATOR = Expect(403, text="This needs the Administrator role.")
POST_ONLY = Expect(405)
# The admin refusing what nobody may do (add or delete audit rows), through our 403 page.
FORBIDDEN = Expect(403, text="The refusal was recorded in the audit log.")
NOT_FOUND = Expect(404)


def redirect_to(location: str) -> Expect:
    return Expect(302, redirect=location)


def admin_row(superuser: Expect) -> dict[str, Expect]:
    """An admin view: superusers only; everyone else is sent to a sign-in page."""
    return {
        "anonymous": ANY_SIGN_IN,
        "no_role": ADMIN_SIGN_IN,
        "helpdesk": ADMIN_SIGN_IN,
        "manager": ADMIN_SIGN_IN,
        "superuser": superuser,
    }


EXPECTED: dict[str, dict[str, Expect]] = {
    # --- our pages ---------------------------------------------------------------------
    "login": {
        "anonymous": OK,
        # redirect_authenticated_user: a signed-in user goes to the start page.
        "no_role": redirect_to("/"),
        "helpdesk": redirect_to("/"),
        "manager": redirect_to("/"),
        "superuser": redirect_to("/"),
    },
    "logout": {
        "anonymous": SIGN_IN,
        "no_role": POST_ONLY,
        "helpdesk": POST_ONLY,
        "manager": POST_ONLY,
        "superuser": POST_ONLY,
    },
    "healthz": dict.fromkeys(ROLES, OK),
    "helpdesk:search": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": OK,
        "manager": OK,
        "superuser": OK,
    },
    "helpdesk:force_logout_confirm": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": OK,
        "manager": OK,
        "superuser": OK,
    },
    "helpdesk:force_logout": {
        "anonymous": SIGN_IN,
        "no_role": POST_ONLY,
        "helpdesk": POST_ONLY,
        "manager": POST_ONLY,
        "superuser": POST_ONLY,
    },
    # POST only; a POST from anyone but a manager or superuser is refused and audited
    # (tests/directory/test_sync_now.py).
    "directory:sync_now": {
        "anonymous": SIGN_IN,
        "no_role": POST_ONLY,
        "helpdesk": POST_ONLY,
        "manager": POST_ONLY,
        "superuser": POST_ONLY,
    },
    "audit:log": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": NEEDS_MANAGERS,
        "manager": OK,
        "superuser": OK,
    },
    "audit:event": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": NEEDS_MANAGERS,
        "manager": OK,
        "superuser": OK,
    },
    "audit:export_csv": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": NEEDS_MANAGERS,
        "manager": OK,
        "superuser": OK,
    },
    "audit:export_jsonl": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": NEEDS_MANAGERS,
        "manager": OK,
        "superuser": OK,
    },
    "zoom:connection": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": NEEDS_ADMINISTRATOR,
        "manager": NEEDS_ADMINISTRATOR,
        "superuser": OK,
    },
    "zoom:connect": {
        "anonymous": SIGN_IN,
        "no_role": POST_ONLY,
        "helpdesk": POST_ONLY,
        "manager": POST_ONLY,
        "superuser": POST_ONLY,
    },
    # Without a connection in progress the callback refuses the answer (audited) and
    # sends the administrator back to the connection page.
    "zoom:callback": {
        "anonymous": SIGN_IN,
        "no_role": NO_ROLE,
        "helpdesk": NEEDS_ADMINISTRATOR,
        "manager": NEEDS_ADMINISTRATOR,
        "superuser": redirect_to("/zoom/"),
    },
    "zoom:disconnect": {
        "anonymous": SIGN_IN,
        "no_role": POST_ONLY,
        "helpdesk": POST_ONLY,
        "manager": POST_ONLY,
        "superuser": POST_ONLY,
    },
    # --- the admin: superusers only ------------------------------------------------------
    "admin:index": admin_row(OK),
    "admin:login": {
        # The admin's own sign-in form; a signed-in non-superuser sees it with a note that
        # their account may not use the admin. A superuser is sent on to the index.
        "anonymous": OK,
        "no_role": OK,
        "helpdesk": OK,
        "manager": OK,
        "superuser": redirect_to("/admin/"),
    },
    "admin:logout": {
        "anonymous": ANY_SIGN_IN,
        "no_role": redirect_to("/admin/"),
        "helpdesk": redirect_to("/admin/"),
        "manager": redirect_to("/admin/"),
        "superuser": POST_ONLY,
    },
    "admin:password_change": admin_row(OK),
    "admin:password_change_done": admin_row(OK),
    # Without its query parameters the autocomplete refuses even a superuser.
    "admin:autocomplete": admin_row(FORBIDDEN),
    "admin:jsi18n": admin_row(OK),
    # A staff user has no get_absolute_url(), so "view on site" has nowhere to go.
    "admin:view_on_site": admin_row(NOT_FOUND),
    "admin:app_list": admin_row(OK),
    "admin/(?P<url>.*)$": admin_row(NOT_FOUND),  # the admin's catch-all
    "admin:auth_group_changelist": admin_row(OK),
    "admin:auth_group_add": admin_row(OK),
    "admin:auth_group_history": admin_row(OK),
    "admin:auth_group_delete": admin_row(OK),  # the confirmation page; GET deletes nothing
    "admin:auth_group_change": admin_row(OK),
    "admin/auth/group/<path:object_id>/": admin_row(redirect_to("change/")),
    "admin:auth_user_password_change": admin_row(OK),
    "admin:auth_user_changelist": admin_row(OK),
    "admin:auth_user_add": admin_row(OK),
    "admin:auth_user_history": admin_row(OK),
    "admin:auth_user_delete": admin_row(OK),
    "admin:auth_user_change": admin_row(OK),
    "admin/auth/user/<path:object_id>/": admin_row(redirect_to("change/")),
    # Audit entries are read-only in the admin: no add, no delete, the change page shows.
    "admin:audit_auditevent_changelist": admin_row(OK),
    "admin:audit_auditevent_add": admin_row(FORBIDDEN),
    "admin:audit_auditevent_history": admin_row(OK),
    "admin:audit_auditevent_delete": admin_row(FORBIDDEN),
    "admin:audit_auditevent_change": admin_row(OK),
    "admin/audit/auditevent/<path:object_id>/": admin_row(redirect_to("change/")),
}

# Paths for the regex patterns, whose groups cannot be filled in generically.
REGEX_PATHS = {
    "admin:app_list": "/admin/auth/",
    "admin/(?P<url>.*)$": "/admin/no-such-page/",
}


# --- Enumerating the URL patterns --------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route when the pattern has no name
    route: str  # as ResolverMatch.route spells it
    pattern: URLPattern


def _piece(entry: URLPattern | URLResolver) -> str:
    text = str(entry.pattern)
    if isinstance(entry.pattern, RegexPattern):
        text = text.removeprefix("^")
    return text


def walk(
    entries: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    for entry in entries:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from walk(entry.url_patterns, prefix + _piece(entry), inner)
            continue
        route = prefix + _piece(entry)
        name = f"{namespace}:{entry.name}" if namespace else entry.name
        key = name if entry.name else route
        yield Route(key=key, route=route, pattern=entry)


def all_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def concrete_path(route: Route, context: dict[str, object]) -> str:
    """A real path for ``route``: converters filled with existing objects' ids."""
    if isinstance(route.pattern.pattern, RegexPattern):
        return REGEX_PATHS[route.key]

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name == "content_type_id":
            return str(ContentType.objects.get_for_model(User).pk)
        if name == "event_id":  # /audit/<int:event_id>/: an audit row that exists
            return str(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)[0])
        if name == "object_id" and route.key == "admin:view_on_site":
            return str(context["helpdesk_pk"])
        if name in {"object_id", "id"}:
            # admin/<app_label>/<model_name>/<object_id>/...: an object that exists.
            app_label, model_name = route.route.split("/")[1:3]
            model = apps.get_model(app_label, model_name)
            obj = model._default_manager.order_by("pk").first()
            assert obj is not None, f"no {app_label}.{model_name} to build {route.route}"
            return str(obj.pk)
        raise AssertionError(f"no value for <{match[0]}> in {route.route}: add one")

    path = "/" + _CONVERTER.sub(fill, route.route)
    query = context.get("query", {})
    assert isinstance(query, dict)
    if route.key in query:
        path += "?" + urlencode(query[route.key])
    return path


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def staff(helpdesk: User, manager: User, superuser: User, no_role: User) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "no_role": no_role,
        "helpdesk": helpdesk,
        "manager": manager,
        "superuser": superuser,
    }


def client_for(user: User | None) -> Client:
    return Client() if user is None else signed_in(user)


@pytest.fixture
def path_context(helpdesk: User, sso_user: SandboxUser) -> dict[str, object]:
    """Objects the admin URLs point at, and query strings that make each view do its work.

    The search gets a real ``q`` and the confirmation a real signed target, so that a view
    whose permission check went missing would call Zoom or render the form, not a 400.
    """
    AuditEvent.objects.create(action=Action.SEARCH, actor_username="seed", detail="seed row")
    return {
        "helpdesk_pk": helpdesk.pk,
        "query": {
            "helpdesk:search": {"q": sso_user.email},
            "helpdesk:force_logout_confirm": {"target": signed_target(sso_user)},
        },
    }


# --- Checks ------------------------------------------------------------------------------


def mismatch(path: str, expect: Expect, response: object) -> str | None:
    """Why ``response`` does not meet ``expect``, or None when it does."""
    status = response.status_code  # type: ignore[attr-defined]
    if status != expect.status:
        where = response.get("Location", "")  # type: ignore[attr-defined]
        return f"{path}: expected {expect.status}, got {status} {where}".rstrip()
    if expect.redirect is not None:
        location = response["Location"]  # type: ignore[index]
        if expect.redirect in {"sign_in", "admin_sign_in", "any_sign_in"}:
            allowed = {
                "sign_in": {SIGN_IN_PATH},
                "admin_sign_in": {ADMIN_SIGN_IN_PATH},
                "any_sign_in": {SIGN_IN_PATH, ADMIN_SIGN_IN_PATH},
            }[expect.redirect]
            parts = urlsplit(location)
            if parts.netloc or parts.path not in allowed:
                return f"{path}: expected a redirect to {sorted(allowed)}, got {location}"
            if parse_qs(parts.query).get("next") != [path]:
                return f"{path}: the sign-in redirect {location} does not come back to {path}"
        elif location != expect.redirect:
            return f"{path}: expected a redirect to {expect.redirect}, got {location}"
    if expect.text is not None:
        body = response.content.decode()  # type: ignore[attr-defined]
        if expect.text not in body:
            return f"{path}: the page does not say {expect.text!r}"
    return None


# --- Tests -------------------------------------------------------------------------------


def test_the_enumerated_url_patterns_include_every_page_we_know() -> None:
    keys = {route.key for route in all_routes()}
    assert len(keys) >= 30, keys  # our seven pages plus the admin's
    for name in (
        "login",
        "logout",
        "healthz",
        "helpdesk:search",
        "helpdesk:force_logout_confirm",
        "helpdesk:force_logout",
        "audit:log",
        "admin:index",
        "admin:login",
        "admin:audit_auditevent_changelist",
        "admin:audit_auditevent_delete",
    ):
        assert name in keys


def test_every_url_pattern_has_an_expectation_for_every_role() -> None:
    keys = [route.key for route in all_routes()]
    assert len(keys) == len(set(keys)), "two URL patterns share one key"
    missing = sorted(set(keys) - set(EXPECTED))
    assert not missing, f"URL patterns without an access expectation: {missing}"
    stale = sorted(set(EXPECTED) - set(keys))
    assert not stale, f"expectations for URL patterns that no longer exist: {stale}"
    for key, row in EXPECTED.items():
        assert set(row) == set(ROLES), f"{key}: expected one entry per role {ROLES}"


def test_only_sign_in_and_healthz_are_open_to_anonymous_visitors() -> None:
    open_to_anonymous = sorted(key for key, row in EXPECTED.items() if row["anonymous"] == OK)
    assert open_to_anonymous == ["admin:login", "healthz", "login"]


@pytest.mark.django_db
def test_every_concrete_path_resolves_to_its_own_pattern(
    path_context: dict[str, object],
) -> None:
    for route in all_routes():
        path = concrete_path(route, path_context)
        assert resolve(urlsplit(path).path).route == route.route, path


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_url_pattern_answers_each_role_as_expected(
    role: str,
    staff: dict[str, User | None],
    path_context: dict[str, object],
    sandbox: ZoomSandbox,
) -> None:
    client = client_for(staff[role])
    problems = []
    checked = 0
    for route in all_routes():
        expect = EXPECTED.get(route.key, {}).get(role)
        if expect is None:
            problems.append(f"{route.key}: no expectation for {role}")
            continue
        path = concrete_path(route, path_context)
        if expect.redirect == "change/":
            expect = redirect_to(urlsplit(path).path + "change/")
        problem = mismatch(path, expect, client.get(path))
        checked += 1
        if problem:
            problems.append(f"{route.key}: {problem}")
    assert checked >= 30
    assert not problems, "\n".join(problems)


REFUSALS = sorted(
    (key, role)
    for key, row in EXPECTED.items()
    for role, expect in row.items()
    if expect.status == 403
)


def test_the_refusal_list_covers_both_kinds_of_refusal() -> None:
    assert ("audit:log", "helpdesk") in REFUSALS
    assert ("helpdesk:search", "no_role") in REFUSALS
    assert len(REFUSALS) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "role"), REFUSALS)
def test_every_refusal_is_audited_as_denied_and_never_calls_zoom(
    key: str,
    role: str,
    staff: dict[str, User | None],
    path_context: dict[str, object],
    sandbox: ZoomSandbox,
) -> None:
    user = staff[role]
    assert user is not None
    route = next(route for route in all_routes() if route.key == key)
    path = concrete_path(route, path_context)
    before = AuditEvent.objects.count()

    response = client_for(user).get(path)

    assert response.status_code == 403
    rows = list(AuditEvent.objects.order_by("id")[before:])
    denied = [row for row in rows if row.action == Action.DENIED]
    assert len(denied) == 1, f"{path}: expected one 'denied' audit row, got {rows}"
    row = denied[0]
    assert row.outcome == Outcome.DENIED
    assert row.actor == user
    assert row.actor_username == user.username
    assert urlsplit(path).path in row.detail
    assert sandbox.requests == []


@pytest.fixture
def force_logout_form(sso_user: SandboxUser) -> dict[str, str]:
    """A complete, valid force-logout form: only the permission check can stop it."""
    return force_logout_fields(sso_user)


@pytest.mark.django_db(transaction=True)
def test_a_no_role_post_to_force_logout_is_refused_audited_and_never_reaches_zoom(
    no_role: User, sandbox: ZoomSandbox, force_logout_form: dict[str, str]
) -> None:
    response = signed_in(no_role).post("/force-logout/", force_logout_form)

    assert response.status_code == 403
    assert "You have no role in zoomadmin" in response.content.decode()
    denied = AuditEvent.objects.get(action=Action.DENIED)
    assert denied.outcome == Outcome.DENIED
    assert denied.actor == no_role
    assert "POST /force-logout/" in denied.detail
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()
    assert sandbox.requests == []


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_post_to_force_logout_is_sent_to_sign_in_and_never_reaches_zoom(
    sandbox: ZoomSandbox, force_logout_form: dict[str, str]
) -> None:
    response = Client().post("/force-logout/", force_logout_form)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/force-logout/"
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()
    assert sandbox.requests == []


@pytest.mark.django_db(transaction=True)
def test_the_same_post_from_helpdesk_does_reach_zoom(
    helpdesk: User,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    force_logout_form: dict[str, str],
) -> None:
    """The control for the two refusals above: the form itself is good."""
    response = signed_in(helpdesk).post("/force-logout/", force_logout_form)

    assert response.status_code == 200
    deletes = [r for r in sandbox.requests if r.method == "DELETE"]
    assert [(r.path, r.status) for r in deletes] == [(f"/users/{sso_user.id}/token", 204)]


@pytest.mark.django_db
def test_anonymous_htmx_request_gets_hx_redirect(sandbox: ZoomSandbox) -> None:
    response = Client().get(
        "/",
        {"q": "someone@example.com"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?q=x%40example.com"},
    )

    # Not a 302, which htmx would follow and swap the sign-in page into the results.
    assert response.status_code == 200
    assert "Location" not in response
    location = urlsplit(response["HX-Redirect"])
    assert location.path == SIGN_IN_PATH
    # Back to the page the agent was on, not to the fragment URL htmx asked for.
    assert parse_qs(location.query)["next"] == ["/?q=x%40example.com"]
    assert sandbox.requests == []


@pytest.mark.django_db
def test_anonymous_htmx_request_from_another_origin_is_not_sent_back_there() -> None:
    response = Client().get(
        "/audit/",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"},
    )

    location = urlsplit(response["HX-Redirect"])
    assert location.path == SIGN_IN_PATH
    assert "evil.example" not in response["HX-Redirect"]
    assert parse_qs(location.query)["next"] == ["/"]


@pytest.mark.django_db(transaction=True)
def test_anonymous_htmx_post_to_force_logout_gets_hx_redirect_and_zoom_is_not_called(
    sandbox: ZoomSandbox, force_logout_form: dict[str, str]
) -> None:
    response = Client().post(
        "/force-logout/",
        force_logout_form,
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"},
    )

    assert response.status_code == 200
    assert urlsplit(response["HX-Redirect"]).path == SIGN_IN_PATH
    assert sandbox.requests == []


@pytest.mark.django_db
def test_helpdesk_htmx_request_for_the_audit_log_gets_the_refusal_as_a_fragment(
    helpdesk: User,
) -> None:
    response = signed_in(helpdesk).get("/audit/", headers={"HX-Request": "true"})

    assert response.status_code == 403
    body = response.content.decode()
    assert "This needs the Administrator or Managers role." in body
    assert "<html" not in body
    assert AuditEvent.objects.filter(action=Action.DENIED, actor=helpdesk).count() == 1


@pytest.mark.django_db
def test_the_no_role_page_says_so_and_offers_no_navigation(no_role: User) -> None:
    response = signed_in(no_role).get("/")

    body = response.content.decode()
    assert response.status_code == 403
    assert "You have no role in zoomadmin" in body
    assert "belongs to neither" in body
    assert 'href="/audit/"' not in body
    assert 'href="/admin/"' not in body


@pytest.mark.django_db
def test_a_user_in_a_group_that_is_no_role_is_treated_as_no_role(
    no_role: User, sandbox: ZoomSandbox
) -> None:
    no_role.groups.add(Group.objects.create(name="Contractors"))

    response = signed_in(no_role).get("/", {"q": "someone@example.com"})

    assert response.status_code == 403
    assert "You have no role in zoomadmin" in response.content.decode()
    assert sandbox.requests == []

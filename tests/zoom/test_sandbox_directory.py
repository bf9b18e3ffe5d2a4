"""Seeded fake users and how they render (ZOOM_API.md §2.1 list items, §2.3 get-user)."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from zoomadmin.zoom.sandbox import SandboxUser, seed_users
from zoomadmin.zoom.sandbox.directory import email_local_part, unique_email

from .openapi import validate_response

NOW = 1_780_000_000.0
ZOOM_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@pytest.fixture(scope="module")
def users() -> list[SandboxUser]:
    return seed_users(2000, seed=7, now=NOW)


def test_the_same_seed_gives_the_same_people() -> None:
    assert seed_users(50, seed=11, now=NOW) == seed_users(50, seed=11, now=NOW)
    assert seed_users(50, seed=11, now=NOW) != seed_users(50, seed=12, now=NOW)


def test_the_clock_moves_timestamps_but_not_people() -> None:
    today = seed_users(30, now=NOW)
    later = seed_users(30, now=NOW + 40 * 86_400)
    assert [(u.id, u.email) for u in today] == [(u.id, u.email) for u in later]
    assert today[0].user_created_at != later[0].user_created_at


def test_ids_look_like_zoom_ids_and_are_unique(users: list[SandboxUser]) -> None:
    assert all(ZOOM_ID.match(u.id) for u in users)
    assert len({u.id for u in users}) == len(users)


def test_emails_are_first_dot_last_and_unique(users: list[SandboxUser]) -> None:
    assert len({u.email.lower() for u in users}) == len(users)
    for user in users:
        local, domain = user.email.split("@")
        assert domain == "globex.example.com"
        assert re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+\d*", local), user.email
        assert local.startswith(email_local_part(user.first_name, user.last_name))


def test_names_are_varied_across_cultures(users: list[SandboxUser]) -> None:
    last_names = {u.last_name for u in users}
    assert len(last_names) > 120
    assert {"García", "Nguyen", "Okafor", "Müller", "Sato", "Sharma"} <= last_names
    assert any(not u.first_name.isascii() for u in users)


def test_about_three_quarters_are_sso_users(users: list[SandboxUser]) -> None:
    kinds = Counter(u.login_types for u in users)
    assert set(kinds) == {(101,), (100,), (1,)}
    assert 0.68 < kinds[(101,)] / len(users) < 0.80
    assert all(u.employee_unique_id for u in users if u.is_sso)
    assert not any(u.employee_unique_id for u in users if not u.is_sso)


def test_statuses_roles_and_types(users: list[SandboxUser]) -> None:
    statuses = Counter(u.status for u in users)
    assert statuses["active"] / len(users) > 0.8
    assert statuses["inactive"] > 20
    assert statuses["pending"] > 20
    roles = Counter(u.role_id for u in users)
    assert roles["0"] == 1
    assert 1 <= roles["1"] <= 60
    assert {u.type for u in users} == {1, 2}
    assert {u.dept for u in users} >= {"Engineering", "Sales", "IT", "Legal"}


def test_pending_users_never_signed_in(users: list[SandboxUser]) -> None:
    pending = [u for u in users if u.status == "pending"]
    assert all(u.last_login_time is None and not u.signed_in for u in pending)
    assert all(u.last_login_time is not None for u in users if u.status != "pending")


def test_last_logins_spread_over_recent_months(users: list[SandboxUser]) -> None:
    logins = [u.last_login_time for u in users if u.status == "active"]
    ages = [(NOW - t) / 86_400 for t in logins if t is not None]
    assert max(ages) > 60
    assert min(ages) < 3
    assert all(age >= 0 for age in ages)


def test_every_user_renders_per_the_spec(users: list[SandboxUser]) -> None:
    for status in ("active", "inactive", "pending"):
        page = [u for u in users if u.status == status][:300]
        items = [
            u.list_item(include_fields=frozenset({"host_key", "custom_attributes"})) for u in page
        ]
        validate_response("GET", "/users", 200, {"users": items, "page_size": 300})
    for user in users[:300]:
        body = user.get_user_body(account_id="acct", account_number=123456789)
        validate_response("GET", "/users/{userId}", 200, body)


def test_list_items_leave_out_what_the_spec_leaves_out(users: list[SandboxUser]) -> None:
    pending = next(u for u in users if u.status == "pending")
    assert "id" not in pending.list_item()
    active = next(u for u in users if u.status == "active" and u.is_sso)
    item = active.list_item()
    assert item["id"] == active.id
    assert "login_types" not in item
    assert "host_key" not in item
    assert active.get_user_body(account_id="a", account_number=1)["login_types"] == [101]


def test_hand_built_users_render_with_defaults() -> None:
    user = SandboxUser(id="zJKyaiAyTNC-MWjiWC18KQ", email="ana@example.com", first_name="Ana")
    body = user.get_user_body(account_id="a", account_number=1)
    assert body["display_name"] == "Ana"
    assert body["user_created_at"] == "2023-11-14T22:13:20Z"
    validate_response("GET", "/users/{userId}", 200, body)


@pytest.mark.parametrize(
    ("first", "last", "local"),
    [
        ("Søren", "Østergaard", "soren.ostergaard"),
        ("Siobhán", "Ó Briain", "siobhan.obriain"),
        ("Min-jun", "Kim", "min-jun.kim"),
        ("Liam", "O'Brien", "liam.obrien"),
        ("Paweł", "Wiśniewska", "pawel.wisniewska"),
    ],
)
def test_email_local_parts_fold_to_ascii(first: str, last: str, local: str) -> None:
    assert email_local_part(first, last) == local


def test_unique_email_numbers_repeats() -> None:
    taken: dict[str, int] = {}
    emails = [unique_email("ana.silva", "x.example.com", taken) for _ in range(3)]
    assert emails == [
        "ana.silva@x.example.com",
        "ana.silva2@x.example.com",
        "ana.silva3@x.example.com",
    ]


def test_100k_users_seed_quickly_and_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    users = seed_users(100_000)
    elapsed = time.perf_counter() - started
    assert len(users) == 100_000
    assert len({u.email for u in users}) == 100_000
    assert elapsed < 10  # the target is well under 3 s; the bound is loose for slow CI
    assert capsys.readouterr() == ("", "")

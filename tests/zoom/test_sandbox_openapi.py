"""The spec oracle itself: it must reject what Zoom's spec rejects, or the other tests prove
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .openapi import (
    SPEC_FILE,
    SpecViolation,
    spec_path_for,
    to_json_schema,
    validate_request,
    validate_response,
)

ITEM = {"id": "KDcuGIm1QgePTO8WbOqwIQ", "email": "jchill@example.com", "type": 1}


def test_the_spec_copy_is_zooms_users_api() -> None:
    document = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    assert document["info"]["title"] == "Users"
    assert document["servers"] == [{"url": "https://api.zoom.us/v2"}]
    shared = Path(__file__).parents[3] / "shared" / "zoom" / "users-openapi.json"
    if shared.exists():  # absent on a clean clone (CI)
        assert shared.read_bytes() == SPEC_FILE.read_bytes()


@pytest.mark.parametrize(
    ("method", "url", "operation_id"),
    [
        ("DELETE", "https://api.zoom.us/v2/users/abc/token", "userSSOTokenDelete"),
        ("DELETE", "https://api.zoom.us/v2/users/abc", "userDelete"),
        ("GET", "https://api.zoom.us/v2/users/abc/token?type=zak", "userToken"),
        ("GET", "https://api.zoom.us/v2/users/a%40b.example.com", "user"),
        ("GET", "https://api.zoom.us/v2/users/email?email=a%40b.example.com", "userEmail"),
        ("GET", "/v2/users?status=inactive&page_size=2000&next_page_token=abc", "users"),
        ("GET", "/v2/users/abc?search_by_unique_id=true&login_type=101", "user"),
    ],
)
def test_valid_requests_name_their_operation(method: str, url: str, operation_id: str) -> None:
    assert validate_request(method, url).operation_id == operation_id


@pytest.mark.parametrize(
    ("method", "url", "body", "complaint"),
    [
        ("GET", "https://api.zoom.us/v2/users?search_key=ana", None, "not declared"),
        ("GET", "/v2/users?status=deleted", None, "is not one of"),
        ("GET", "/v2/users?page_size=2001", None, "maximum"),
        ("GET", "/v2/users?page_size=ten", None, "not an integer"),
        ("GET", "/v2/users?status=active&status=inactive", None, "2 times"),
        ("GET", "/v2/users/abc?encrypted_email=1", None, "not true or false"),
        ("GET", "/v2/users/email", None, "required"),
        ("POST", "/v2/users/abc/token", None, "not defined"),
        ("GET", "/v2/meetings", None, "no path template"),
        ("GET", "https://api.zoom.us/users", None, "server path"),
        ("DELETE", "/v2/users/abc/token", b'{"all": true}', "no request body"),
        ("PUT", "/v2/users/abc/status", {"action": "erase"}, "is not one of"),
        ("PUT", "/v2/users/abc/status", {"action": "activate", "x": 1}, "Additional"),
    ],
)
def test_invalid_requests_are_caught(method: str, url: str, body: object, complaint: str) -> None:
    with pytest.raises(SpecViolation, match=complaint):
        validate_request(method, url, body)


def test_literal_paths_beat_templates() -> None:
    assert spec_path_for("GET", "/users/summary") == "/users/summary"
    assert spec_path_for("GET", "/users/summary2") == "/users/{userId}"


def test_a_valid_list_response_passes() -> None:
    body = {"next_page_token": "", "page_size": 30, "total_records": 1, "users": [ITEM]}
    validate_response("GET", "/users", 200, body)


@pytest.mark.parametrize(
    ("item_change", "complaint"),
    [
        ({"login_types": [101]}, "login_types"),  # get-user only
        ({"type": "2"}, "is not of type 'integer'"),
        ({"type": 3}, "is not one of"),
        ({"pmi": 1.5}, "integer"),
        ({"last_login_time": "yesterday"}, "date-time"),
        ({"last_login_time": "2024-01-01 10:00:00"}, "date-time"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "x" * 65}, "too long"),
        ({"status": "deleted"}, "is not one of"),
    ],
)
def test_bad_list_items_are_caught(item_change: dict[str, object], complaint: str) -> None:
    with pytest.raises(SpecViolation, match=complaint):
        validate_response("GET", "/users", 200, {"users": [ITEM | item_change]})


def test_required_fields_are_required() -> None:
    with pytest.raises(SpecViolation, match="'type' is a required property"):
        validate_response("GET", "/users", 200, {"users": [{"email": "a@b.example.com"}]})
    with pytest.raises(SpecViolation, match="'type' is a required property"):
        validate_response("GET", "/users/{userId}", 200, {"id": "abc"})


def test_get_user_all_of_parts_are_merged() -> None:
    body = {"id": "abc", "type": 2, "login_types": [101], "account_number": 5, "role_name": "x"}
    validate_response("GET", "/users/{userId}", 200, body)
    with pytest.raises(SpecViolation, match="unexpected"):
        validate_response("GET", "/users/{userId}", 200, body | {"sso": True})


def test_bodiless_statuses() -> None:
    validate_response("DELETE", "/users/{userId}/token", 204, None)
    with pytest.raises(SpecViolation, match="expected no body"):
        validate_response("DELETE", "/users/{userId}/token", 204, {"ok": True})
    with pytest.raises(SpecViolation, match="not documented"):
        validate_response("DELETE", "/users/{userId}/token", 200, None)
    # §7.5: the status endpoint documents 200 while the old docs (and the sandbox) say 204.
    validate_response("PUT", "/users/{userId}/status", 200, None)
    validate_response("PUT", "/users/{userId}/status", 204, None)


@pytest.mark.parametrize("status", [400, 401, 404, 429, 503])
def test_error_statuses_need_a_zoom_error_body(status: int) -> None:
    validate_response("GET", "/users", status, {"code": 124, "message": "Invalid access token."})
    for bad in [
        None,
        {"message": "x"},
        {"code": "124", "message": "x"},
        {"code": 1, "msg": "x"},
        {"code": True, "message": "x"},
        {"code": 1, "message": "x", "extra": 1},
    ]:
        with pytest.raises(SpecViolation):
            validate_response("GET", "/users", status, bad)


def test_validation_errors_may_list_fields() -> None:
    body = {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": "status", "message": "Invalid field."}],
    }
    validate_response("GET", "/users", 400, body)


def test_openapi_3_0_keywords_are_mapped() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "nullable": True, "example": "x", "x-y": 1}},
    }
    assert to_json_schema(schema, strict=True) == {
        "type": "object",
        "properties": {"a": {"type": ["string", "null"]}},
        "additionalProperties": False,
    }
    assert "additionalProperties" not in to_json_schema(schema, strict=False)

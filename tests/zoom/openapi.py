"""Zoom's own Users OpenAPI as a test oracle (a helper module, not tests).

``users-openapi.json`` beside this file is a verbatim copy of Zoom's published spec
(ZOOM_API.md [S1]); CI runs on a clean clone, so the copy lives here.

- ``validate_response(method, spec_path, status, body)`` checks a response against the
  operation's documented responses.
- ``validate_request(method, url, body=None)`` checks that a request is one the spec
  defines: path template, declared query parameters with valid values, the request body.

OpenAPI 3.0 is mapped onto JSON Schema draft 4 (its base): ``nullable`` becomes a ``null``
type, ``example``/``description``/``deprecated``/``x-*`` are dropped, ``allOf`` object parts
are merged, and ``format`` is checked for ``date-time``, ``email``, ``int32`` and ``int64``.
Response objects are checked strictly: a property the spec does not define is an error, so a
misspelt or misplaced field (``login_types`` in a list item) fails.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

SPEC_FILE = Path(__file__).with_name("users-openapi.json")

# Where Zoom's behaviour departs from its spec and the sandbox follows the behaviour.
KNOWN_DEVIATIONS: dict[tuple[str, str], dict[str, str]] = {
    # ZOOM_API.md §7.5: the current spec says 200, the old docs 204; the sandbox defaults to
    # 204, and a client must accept either.
    ("put", "/users/{userId}/status"): {"204": "old docs [S16]"},
}

_DROPPED_KEYWORDS = frozenset(
    {
        "example",
        "examples",
        "description",
        "deprecated",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "discriminator",
        "nullable",
        "title",
    }
)
_ERROR_KEYS = frozenset({"code", "message", "errors"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SpecViolation(AssertionError):
    """A request or response that Zoom's spec does not allow."""


@dataclass(frozen=True)
class Operation:
    method: str  # lower case, as in the spec
    path: str  # the spec's path template, e.g. "/users/{userId}/token"
    spec: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", ""))

    def parameters(self, location: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p["in"] == location}


@functools.cache
def spec() -> dict[str, Any]:
    with SPEC_FILE.open(encoding="utf-8") as file:
        document: dict[str, Any] = json.load(file)
    return document


def server_path() -> str:
    """The path of the spec's server URL: "/v2" for https://api.zoom.us/v2."""
    return str(urlsplit(spec()["servers"][0]["url"]).path).rstrip("/")


def operation(method: str, spec_path: str) -> Operation:
    methods = spec()["paths"].get(spec_path)
    if methods is None:
        raise SpecViolation(f"{spec_path} is not a path in Zoom's Users spec")
    op = methods.get(method.lower())
    if op is None:
        raise SpecViolation(f"{method.upper()} {spec_path} is not an operation in the spec")
    return Operation(method.lower(), spec_path, op)


def match_path(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The operation for a concrete path below the server path, and its path parameters.

    Literal segments beat templated ones, as in any router: "/users/email" is ``GET
    /users/email``, not ``GET /users/{userId}`` with userId "email".
    """
    segments = path.split("/")
    candidates: list[tuple[int, str, dict[str, str]]] = []
    for template in spec()["paths"]:
        params = _match_template(template.split("/"), segments)
        if params is not None:
            literals = sum(1 for s in template.split("/") if not s.startswith("{"))
            candidates.append((literals, template, params))
    if not candidates:
        raise SpecViolation(f"{path} matches no path template in the spec")
    candidates.sort(key=lambda c: -c[0])
    for _, template, params in candidates:
        if method.lower() in spec()["paths"][template]:
            return operation(method, template), params
    templates = ", ".join(c[1] for c in candidates)
    raise SpecViolation(f"{method.upper()} is not defined for {path} (matches {templates})")


def spec_path_for(method: str, path: str) -> str:
    """The spec template for a concrete path below the server path ("/users/abc/token")."""
    return match_path(method, path)[0].path


def _match_template(template: list[str], segments: list[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = unquote(actual)
        elif expected != actual:
            return None
    return params


# --- OpenAPI 3.0 schema -> JSON Schema draft 4 ---------------------------------------------------


def to_json_schema(schema: Any, *, strict: bool) -> Any:
    """Convert an OpenAPI 3.0 schema object. ``strict`` forbids undeclared properties."""
    if not isinstance(schema, dict):
        return schema
    if "allOf" in schema and all(_is_object(part) for part in schema["allOf"]):
        schema = _merge_all_of(schema)
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in _DROPPED_KEYWORDS:
            continue
        if key == "properties":
            converted[key] = {
                name: to_json_schema(sub, strict=strict) for name, sub in value.items()
            }
        elif key in ("items", "additionalProperties", "not"):
            converted[key] = to_json_schema(value, strict=strict)
        elif key in ("allOf", "oneOf", "anyOf"):
            # Alternatives are left open: a strict branch would reject its siblings' fields.
            converted[key] = [to_json_schema(part, strict=False) for part in value]
        else:
            converted[key] = value
    if schema.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    if strict and "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    return converted


def _is_object(schema: Any) -> bool:
    return isinstance(schema, dict) and (schema.get("type") == "object" or "properties" in schema)


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    """One object schema from ``allOf`` object parts (the get-user body is such a union)."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    merged["type"] = "object"
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in schema["allOf"]:
        part = _merge_all_of(part) if "allOf" in part else part
        for name, sub in part.get("properties", {}).items():
            properties.setdefault(name, sub)  # the first definition wins, as in the spec's order
        required += [r for r in part.get("required", []) if r not in required]
    merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def _format_checker() -> jsonschema.FormatChecker:
    """Only the formats Zoom's Users spec uses; jsonschema's own date-time check would need an
    optional package and silently pass without it."""
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("email")(_is_email)
    checker.checks("int64")(_is_int64)
    checker.checks("int32")(_is_int32)
    return checker


def check_schema(instance: Any, schema: dict[str, Any], *, strict: bool, where: str) -> None:
    validator = jsonschema.Draft4Validator(
        to_json_schema(schema, strict=strict), format_checker=_format_checker()
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
        raise SpecViolation(f"{where}:\n  " + "\n  ".join(lines[:20]))


# --- Responses -----------------------------------------------------------------------------------


def validate_response(method: str, spec_path: str, status: int, body: Any) -> None:
    """Check a response (``body`` parsed from JSON, or None when empty) against the spec.

    - A documented status with a JSON schema: the body must match it, strictly.
    - A 2xx documented without a schema (a 204, or the status endpoint's bare 200): no body.
    - An error status, documented or not: Zoom's error body ``{"code": int, "message": str}``
      (ZOOM_API.md §5; the spec documents 124 under 400 while Zoom answers 401, so error
      statuses are not limited to the documented ones).
    """
    op = operation(method, spec_path)
    where = f"{method.upper()} {spec_path} -> {status}"
    documented = op.spec.get("responses", {}).get(str(status))
    deviation = KNOWN_DEVIATIONS.get((op.method, op.path), {}).get(str(status))
    if documented is None and deviation is None and status < 400:
        raise SpecViolation(f"{where}: status {status} is not documented for this operation")
    schema = _json_schema_of(documented) if documented else None
    if schema is not None:
        check_schema(body, schema, strict=True, where=where)
    elif status >= 400:
        check_zoom_error(body, where=where)
    elif body not in (None, b"", ""):
        raise SpecViolation(f"{where}: expected no body, got {body!r}")


def _json_schema_of(response: dict[str, Any]) -> dict[str, Any] | None:
    content = response.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return media.get("schema") if media else None


def check_zoom_error(body: Any, *, where: str = "error body") -> None:
    """ZOOM_API.md §5: ``{"code": int, "message": str}``, plus ``errors`` for validation."""
    if not isinstance(body, dict):
        raise SpecViolation(f"{where}: expected a Zoom error object, got {body!r}")
    code, message = body.get("code"), body.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
        raise SpecViolation(f"{where}: expected int code and str message, got {body!r}")
    if not set(body) <= _ERROR_KEYS:
        raise SpecViolation(f"{where}: unexpected keys {sorted(set(body) - _ERROR_KEYS)}")
    for error in body.get("errors", []):
        if not (isinstance(error, dict) and {"field", "message"} <= set(error)):
            raise SpecViolation(f"{where}: bad entry in errors: {error!r}")


# --- Requests ------------------------------------------------------------------------------------


def validate_request(method: str, url: str, body: Any = None) -> Operation:
    """Check that ``method url`` (a full URL, or a path that starts with the server path)
    is an operation of the spec, called with declared, well-typed query parameters and, when
    the operation takes one, a valid JSON body. Returns the operation."""
    parts = urlsplit(url)
    base = server_path()
    if not parts.path.startswith(base + "/"):
        raise SpecViolation(f"{url}: the path must start with the server path {base}/")
    op, path_params = match_path(method, parts.path[len(base) :])
    where = f"{method.upper()} {op.path}"
    for name, value in path_params.items():
        declared = op.parameters("path").get(name)
        if declared is None:
            raise SpecViolation(f"{where}: path parameter {name} is not declared")
        _check_value(value, declared.get("schema", {}), where=f"{where}: path {name}")
    _check_query(op, parse_qs(parts.query, keep_blank_values=True), where)
    _check_body(op, body, where)
    return op


def _check_query(op: Operation, query: dict[str, list[str]], where: str) -> None:
    declared = op.parameters("query")
    for name, values in query.items():
        parameter = declared.get(name)
        if parameter is None:
            known = ", ".join(sorted(declared)) or "none"
            raise SpecViolation(f"{where}: query parameter {name!r} is not declared ({known})")
        schema = parameter.get("schema", {})
        if len(values) > 1 and schema.get("type") != "array":
            raise SpecViolation(f"{where}: query parameter {name!r} given {len(values)} times")
        for value in values:
            item = schema.get("items", {}) if schema.get("type") == "array" else schema
            _check_value(value, item, where=f"{where}: query {name}")
    for name, parameter in declared.items():
        if parameter.get("required") and name not in query:
            raise SpecViolation(f"{where}: required query parameter {name!r} is missing")


def _check_value(raw: str, schema: dict[str, Any], *, where: str) -> None:
    """A string from a URL against a parameter's schema, converting it to the type first."""
    kind = schema.get("type", "string")
    value: Any = raw
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            raise SpecViolation(f"{where}: {raw!r} is not an integer")
        value = int(raw)
    elif kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise SpecViolation(f"{where}: {raw!r} is not a number") from None
    elif kind == "boolean":
        if raw not in ("true", "false"):
            raise SpecViolation(f"{where}: {raw!r} is not true or false")
        value = raw == "true"
    elif not raw:
        raise SpecViolation(f"{where}: empty value")
    check_schema(value, schema, strict=False, where=where)


def _check_body(op: Operation, body: Any, where: str) -> None:
    request_body = op.spec.get("requestBody")
    empty = body in (None, b"", "")
    if request_body is None:
        if not empty:
            raise SpecViolation(f"{where}: this operation takes no request body")
        return
    if empty:
        if request_body.get("required"):
            raise SpecViolation(f"{where}: a request body is required")
        return
    document = json.loads(body) if isinstance(body, str | bytes) else body
    schema = _json_schema_of(request_body)
    if schema is not None:
        check_schema(document, schema, strict=True, where=f"{where} request body")


def validate_sandbox_response(method: str, path: str, status: int, body: bytes) -> str:
    """``validate_response`` for a raw answer to ``path`` below the server path
    ("/users/abc/token"): finds the spec template, parses the JSON body, and returns the
    template."""
    spec_path = spec_path_for(method, path.partition("?")[0])
    validate_response(method, spec_path, status, json.loads(body) if body else None)
    return spec_path

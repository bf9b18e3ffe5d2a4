"""Read configuration from the environment, refusing bad values loudly.

Every helper raises ``ConfigError`` with a message that names the variable, so a
typo in a deployment stops start-up instead of running with a surprising value.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ImproperlyConfigured):
    """A setting has a bad value; the message names the environment variable."""


def load_dotenv(path: Path, environ: dict[str, str] | None = None) -> None:
    """Copy KEY=VALUE lines of ``path`` into the environment, never overriding it.

    Supports comments, blank lines, ``export`` prefixes and single or double quotes:
    enough for the ``.env`` file that ``.env.example`` describes.
    """
    target = os.environ if environ is None else environ
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"{path.name} line {number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        target.setdefault(key, value)


def get_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(name, default).strip()


def get_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = get_str(name, "1" if default else "0", environ).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name}: expected 1 or 0, got {raw!r}")


def get_int(
    name: str,
    default: int,
    *,
    minimum: int,
    maximum: int,
    environ: Mapping[str, str] | None = None,
) -> int:
    raw = get_str(name, str(default), environ)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}: expected a number from {minimum} to {maximum}, got {value}")
    return value


def get_list(
    name: str, default: Iterable[str], environ: Mapping[str, str] | None = None
) -> list[str]:
    env = os.environ if environ is None else environ
    if name not in env:
        return list(default)
    return [item.strip() for item in env[name].split(",") if item.strip()]


def get_choice(
    name: str, choices: Iterable[str], default: str, environ: Mapping[str, str] | None = None
) -> str:
    allowed = list(choices)
    value = get_str(name, default, environ).lower()
    if value not in allowed:
        raise ConfigError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_zoom_url(name: str, value: str) -> str:
    """Return ``value`` without a trailing slash if it is a safe Zoom base URL.

    Plain http is allowed only for a loopback host (the sandbox or a local fake):
    anywhere else it would send Zoom credentials in clear text.
    """
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{name}: not a valid URL: {value!r}") from None
    if parts.scheme not in {"http", "https"} or not host:
        raise ConfigError(f"{name}: expected an https:// URL, got {value!r}")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigError(
            f"{name}: plain http:// is allowed only for 127.0.0.1, ::1 or localhost; "
            f"use https:// for {host}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{name}: expected a base URL without credentials, query or fragment")
    return value.rstrip("/")


def check_fernet_keys(name: str, keys: list[str]) -> list[str]:
    from cryptography.fernet import Fernet

    if not keys:
        raise ConfigError(f"{name}: at least one Fernet key is required")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"{name}: key {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return keys


def database_from_url(name: str, url: str, base_dir: Path) -> dict[str, Any]:
    """Translate ``sqlite:///path`` or ``postgres://user:pw@host:port/db?opt=v``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name}: not a valid URL: {url!r}") from None
    if parts.scheme == "sqlite":
        raw_path = unquote(parts.path)
        if parts.netloc or not raw_path.startswith("/") or raw_path == "/":
            raise ConfigError(
                f"{name}: expected sqlite:///relative/file.sqlite3 or sqlite:////absolute/path"
            )
        path = Path(raw_path[1:])
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if path.is_absolute() else base_dir / path,
            "OPTIONS": {
                # Take the write lock when a transaction starts, so two writers queue
                # instead of failing with "database is locked" halfway through.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parts.scheme in {"postgres", "postgresql"}:
        database = unquote(parts.path.lstrip("/"))
        if not database or not parts.hostname:
            raise ConfigError(f"{name}: expected postgres://user:password@host:port/database")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname,
            "PORT": str(port or 5432),
            "OPTIONS": dict(parse_qsl(parts.query)),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ConfigError(f"{name}: expected a sqlite:/// or postgres:// URL, got {parts.scheme!r}")

"""Settings come from the environment, and a bad value stops start-up naming the variable.

Each test loads zoomadmin/settings.py afresh (``runpy.run_path``) under an environment
that holds only what the test gives it, with ``DOTENV_FILE=""`` so no .env is read.
"""

from __future__ import annotations

import os
import runpy
import secrets
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from tests.commands import BASE_DIR, manage_py
from zoomadmin import env

SETTINGS = BASE_DIR / "zoomadmin" / "settings.py"

SECRET = "s" * 20 + secrets.token_urlsafe(48)
FERNET_KEY = Fernet.generate_key().decode()


def overridden(environ: dict[str, str], overrides: dict[str, str | None]) -> dict[str, str]:
    """``environ`` with ``overrides`` applied; ``None`` removes a variable."""
    result = dict(environ)
    for name, value in overrides.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def production(**overrides: str | None) -> dict[str, str]:
    """A valid production environment; ``None`` removes a variable."""
    baseline = {
        "DOTENV_FILE": "",
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "TOKEN_ENCRYPTION_KEYS": FERNET_KEY,
        "ALLOWED_HOSTS": "zoomadmin.example.com",
    }
    return overridden(baseline, overrides)


def development(**overrides: str | None) -> dict[str, str]:
    return overridden({"DOTENV_FILE": "", "DEBUG": "1"}, overrides)


def load(environ: dict[str, str]) -> dict[str, Any]:
    with mock.patch.dict(os.environ, environ, clear=True):
        return runpy.run_path(str(SETTINGS))


def test_the_baseline_production_environment_loads() -> None:
    loaded = load(production())
    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"] == SECRET
    assert loaded["TOKEN_ENCRYPTION_KEYS"] == [FERNET_KEY]
    assert loaded["ALLOWED_HOSTS"] == ["zoomadmin.example.com"]


# --- Production refuses to start without its secrets -------------------------------------


def test_production_without_secret_key_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load(production(SECRET_KEY=None))


def test_production_with_an_empty_secret_key_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load(production(SECRET_KEY="   "))


def test_production_with_a_short_secret_key_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"SECRET_KEY.*50"):
        load(production(SECRET_KEY="x" * 49))


def test_production_with_the_development_secret_key_is_refused() -> None:
    dev_key = load(development())["SECRET_KEY"]
    assert len(dev_key) >= 50
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load(production(SECRET_KEY=dev_key))


def test_production_without_token_encryption_keys_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS"):
        load(production(TOKEN_ENCRYPTION_KEYS=None))


def test_production_with_only_commas_for_token_encryption_keys_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS"):
        load(production(TOKEN_ENCRYPTION_KEYS=" , ,"))


@pytest.mark.parametrize(
    "keys",
    [
        "not-a-fernet-key",
        "c2hvcnQ=",  # base64, but 5 bytes
        f"{FERNET_KEY},also-not-a-key",  # the second of two
    ],
)
def test_a_token_key_that_is_not_fernet_is_refused(keys: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"TOKEN_ENCRYPTION_KEYS.*not a Fernet key"):
        load(production(TOKEN_ENCRYPTION_KEYS=keys))


def test_a_bad_token_key_is_not_echoed_in_the_message() -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        load(production(TOKEN_ENCRYPTION_KEYS="secret-looking-value-123"))
    assert "secret-looking-value-123" not in str(caught.value)


def test_production_with_the_development_token_key_is_refused() -> None:
    dev_keys = load(development())["TOKEN_ENCRYPTION_KEYS"]
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS"):
        load(production(TOKEN_ENCRYPTION_KEYS=",".join(dev_keys)))


def test_several_token_keys_keep_their_order_for_rotation() -> None:
    newer = Fernet.generate_key().decode()
    loaded = load(production(TOKEN_ENCRYPTION_KEYS=f"{newer}, {FERNET_KEY}"))
    assert loaded["TOKEN_ENCRYPTION_KEYS"] == [newer, FERNET_KEY]


# --- Values that are not what they should be ----------------------------------------------


@pytest.mark.parametrize("value", ["maybe", "2", "enabled", "tru"])
def test_debug_must_be_one_or_zero(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        load(production(DEBUG=value))


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("0", False)])
def test_debug_accepts_the_usual_spellings(value: str, expected: bool) -> None:
    assert load(production(DEBUG=value))["DEBUG"] is expected


@pytest.mark.parametrize("value", ["gold", "enterprise", "PRO-plus"])
def test_an_unknown_zoom_plan_is_refused(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="ZOOM_PLAN"):
        load(production(ZOOM_PLAN=value))


@pytest.mark.parametrize("plan", ["free", "pro", "business", "Business"])
def test_each_zoom_plan_is_accepted(plan: str) -> None:
    assert load(production(ZOOM_PLAN=plan))["ZOOM_PLAN"] == plan.lower()


def test_zoom_plan_defaults_to_pro() -> None:
    assert load(production())["ZOOM_PLAN"] == "pro"


def test_sign_in_throttling_defaults_to_5_failures_and_15_minutes() -> None:
    loaded = load(production())
    assert (loaded["SIGN_IN_MAX_FAILURES"], loaded["SIGN_IN_LOCKOUT_MINUTES"]) == (5, 15)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SIGN_IN_MAX_FAILURES", "0"),
        ("SIGN_IN_MAX_FAILURES", "five"),
        ("SIGN_IN_LOCKOUT_MINUTES", "0"),
        ("SIGN_IN_LOCKOUT_MINUTES", "100000"),
    ],
)
def test_sign_in_throttling_refuses_values_that_would_disable_or_break_it(
    variable: str, value: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=variable):
        load(production(**{variable: value}))


@pytest.mark.parametrize("variable", ["ZOOM_API_BASE_URL", "ZOOM_OAUTH_BASE_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://api.zoom.us/v2",  # plain http to Zoom: credentials in clear text
        "http://10.0.0.5:8010",  # a private address is not loopback
        "http://localhost.evil.example/v2",  # looks local, is not
        "http://127.0.0.1.evil.example/v2",
        "ftp://api.zoom.us/v2",
        "garbage",
        "https://",
        "api.zoom.us/v2",
        "https://user:password@api.zoom.us/v2",
        "https://api.zoom.us/v2?x=1",
        "https://api.zoom.us:99999/v2",
    ],
)
def test_an_unsafe_or_malformed_zoom_url_is_refused(variable: str, url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=variable):
        load(production(**{variable: url}))


@pytest.mark.parametrize("variable", ["ZOOM_API_BASE_URL", "ZOOM_OAUTH_BASE_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8010/v2",
        "http://localhost:8010/v2",
        "http://[::1]:8010/v2",
        "https://api.zoom.us/v2",
        "https://zoom.us",
    ],
)
def test_https_anywhere_and_http_only_on_loopback_are_accepted(variable: str, url: str) -> None:
    assert load(production(**{variable: url + "/"}))[variable] == url


def test_zoom_urls_default_to_zoom_itself() -> None:
    loaded = load(production())
    assert loaded["ZOOM_API_BASE_URL"] == "https://api.zoom.us/v2"
    assert loaded["ZOOM_OAUTH_BASE_URL"] == "https://zoom.us"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user:pw@db.example.com/zoomadmin",
        "postgis://user:pw@db.example.com/zoomadmin",
        "db.sqlite3",
    ],
)
def test_a_database_url_with_an_unknown_scheme_is_refused(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        load(production(DATABASE_URL=url))


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@db.example.com",  # no database
        "postgres://user:pw@db.example.com/",
        "postgres:///zoomadmin",  # no host
        "postgres://user:pw@db.example.com:notaport/zoomadmin",
        "postgres://user:pw@db.example.com:70000/zoomadmin",
        "sqlite://relative.sqlite3",  # two slashes: a host, not a path
        "sqlite:///",
    ],
)
def test_a_malformed_database_url_is_refused(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        load(production(DATABASE_URL=url))


def test_a_postgres_database_url_is_translated() -> None:
    url = "postgresql://zoom%40admin:p%2Fss@db.example.com:6543/zoomadmin?sslmode=require"
    database = load(production(DATABASE_URL=url))["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "zoomadmin"
    assert database["USER"] == "zoom@admin"
    assert database["PASSWORD"] == "p/ss"
    assert database["HOST"] == "db.example.com"
    assert database["PORT"] == "6543"
    assert database["OPTIONS"]["sslmode"] == "require"


def test_a_sqlite_database_url_is_relative_to_the_checkout_or_absolute() -> None:
    relative = load(production(DATABASE_URL="sqlite:///data/app.sqlite3"))
    assert Path(relative["DATABASES"]["default"]["NAME"]) == BASE_DIR / "data" / "app.sqlite3"
    absolute = load(production(DATABASE_URL="sqlite:////var/lib/zoomadmin/app.sqlite3"))
    assert Path(absolute["DATABASES"]["default"]["NAME"]) == Path("/var/lib/zoomadmin/app.sqlite3")


@pytest.mark.parametrize("origin", ["zoomadmin.example.com", "ftp://zoomadmin.example.com"])
def test_a_csrf_trusted_origin_without_a_scheme_is_refused(origin: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="CSRF_TRUSTED_ORIGINS"):
        load(production(CSRF_TRUSTED_ORIGINS=origin))


# --- Zoom credentials and the auth mode they give ----------------------------------------


def test_a_client_id_without_its_secret_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="ZOOM_CLIENT_SECRET"):
        load(production(ZOOM_CLIENT_ID="abc"))


def test_a_client_secret_without_its_id_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="ZOOM_CLIENT_ID"):
        load(production(ZOOM_CLIENT_SECRET="abc"))


def test_an_account_id_alone_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="ZOOM_ACCOUNT_ID"):
        load(production(ZOOM_ACCOUNT_ID="acct"))


def test_an_account_id_with_half_a_client_pair_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="ZOOM_CLIENT_SECRET"):
        load(production(ZOOM_ACCOUNT_ID="acct", ZOOM_CLIENT_ID="abc"))


@pytest.mark.parametrize(
    ("variables", "mode"),
    [
        (
            {"ZOOM_ACCOUNT_ID": "acct", "ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "secret"},
            "server_to_server",
        ),
        ({"ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "secret"}, "oauth_app"),
        ({}, "unconfigured"),
        ({"ZOOM_ACCOUNT_ID": "", "ZOOM_CLIENT_ID": " ", "ZOOM_CLIENT_SECRET": ""}, "unconfigured"),
    ],
)
def test_the_auth_mode_follows_the_three_zoom_variables(
    variables: dict[str, str], mode: str
) -> None:
    loaded = load(production(**variables))
    assert loaded["ZOOM_AUTH_MODE"] == mode
    assert loaded["ZOOM_ACCOUNT_ID"] == variables.get("ZOOM_ACCOUNT_ID", "").strip()
    assert loaded["ZOOM_CLIENT_ID"] == variables.get("ZOOM_CLIENT_ID", "").strip()


# --- Development defaults --------------------------------------------------------------------


def test_debug_gives_development_defaults() -> None:
    loaded = load(development())
    assert loaded["DEBUG"] is True
    assert len(loaded["SECRET_KEY"]) >= 50
    keys = loaded["TOKEN_ENCRYPTION_KEYS"]
    assert len(keys) == 1
    Fernet(keys[0])  # a usable key
    assert loaded["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert loaded["SESSION_COOKIE_SECURE"] is False
    assert loaded["CSRF_COOKIE_SECURE"] is False
    assert loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["SECURE_HSTS_SECONDS"] == 0


def test_production_has_no_host_unless_told() -> None:
    assert load(production(ALLOWED_HOSTS=None))["ALLOWED_HOSTS"] == []


def test_debug_still_takes_secrets_from_the_environment() -> None:
    loaded = load(development(SECRET_KEY=SECRET, TOKEN_ENCRYPTION_KEYS=FERNET_KEY))
    assert loaded["SECRET_KEY"] == SECRET
    assert loaded["TOKEN_ENCRYPTION_KEYS"] == [FERNET_KEY]


def test_the_zoom_sandbox_points_zoom_at_loopback_port_8010() -> None:
    loaded = load(development(ZOOM_SANDBOX="1"))
    assert loaded["ZOOM_API_BASE_URL"] == "http://127.0.0.1:8010/v2"
    assert loaded["ZOOM_OAUTH_BASE_URL"] == "http://127.0.0.1:8010"
    assert loaded["ZOOM_AUTH_MODE"] == "server_to_server"


def test_the_zoom_sandbox_does_not_override_explicit_zoom_urls() -> None:
    loaded = load(development(ZOOM_SANDBOX="1", ZOOM_API_BASE_URL="http://localhost:9000/v2"))
    assert loaded["ZOOM_API_BASE_URL"] == "http://localhost:9000/v2"


# --- Cookies ---------------------------------------------------------------------------------


def test_cookies_are_secure_httponly_and_lax_in_production() -> None:
    loaded = load(production())
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["CSRF_COOKIE_HTTPONLY"] is True
    assert loaded["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert loaded["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_cookies_are_httponly_and_lax_in_development_too() -> None:
    loaded = load(development())
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["CSRF_COOKIE_HTTPONLY"] is True
    assert loaded["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert loaded["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_production_redirects_to_https_and_sends_hsts_for_a_year() -> None:
    loaded = load(production())
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60
    assert loaded["X_FRAME_OPTIONS"] == "DENY"


@pytest.mark.parametrize(
    ("hosts", "redirect"),
    [
        ("zoomadmin.example.com", True),
        ("localhost,zoomadmin.example.com", True),
        ("localhost.evil.example", True),
        ("127.0.0.1.evil.example", True),
        ("*", True),
        ("localhost,127.0.0.1,[::1]", False),
        ("127.0.0.1:8000", False),
    ],
)
def test_production_redirects_to_https_unless_it_answers_only_to_loopback_names(
    hosts: str, redirect: bool
) -> None:
    assert load(production(ALLOWED_HOSTS=hosts))["SECURE_SSL_REDIRECT"] is redirect


def test_the_https_redirect_can_be_turned_off_explicitly() -> None:
    assert load(production(SECURE_SSL_REDIRECT="0"))["SECURE_SSL_REDIRECT"] is False


@pytest.mark.parametrize("value", ["sometimes", "2"])
def test_a_bad_secure_ssl_redirect_is_refused(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="SECURE_SSL_REDIRECT"):
        load(production(SECURE_SSL_REDIRECT=value))


def test_a_tls_proxy_header_is_trusted_only_when_asked() -> None:
    assert "SECURE_PROXY_SSL_HEADER" not in load(production())
    behind = load(production(BEHIND_TLS_PROXY="1"))
    assert behind["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


# --- .env -------------------------------------------------------------------------------------


def test_settings_read_the_named_dotenv_file_without_overriding_the_environment(
    tmp_path: Path,
) -> None:
    dotenv = tmp_path / "zoomadmin.env"
    dotenv.write_text("ZOOM_PLAN=free\nALLOWED_HOSTS=from-dotenv.example\n", encoding="utf-8")
    loaded = load(production(DOTENV_FILE=str(dotenv)))
    assert loaded["ZOOM_PLAN"] == "free"
    assert loaded["ALLOWED_HOSTS"] == ["zoomadmin.example.com"]  # the environment wins


def test_an_empty_dotenv_file_setting_reads_no_dotenv(tmp_path: Path) -> None:
    # The checkout's own .env, if a developer has one, must not leak into this run.
    with mock.patch.object(env, "load_dotenv") as loader:
        load(production(DOTENV_FILE=""))
    loader.assert_not_called()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_dotenv_reads_keys_values_quotes_comments_and_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "  SPACED = padded value  \n"
        'DOUBLE="with spaces # and a hash"\n'
        "SINGLE='it''s'\n"
        "export EXPORTED=yes\n"
        "EMPTY=\n"
        "EQUALS=a=b=c\n"
        "   # an indented comment\n",
    )
    environ: dict[str, str] = {}
    env.load_dotenv(path, environ)
    assert environ == {
        "PLAIN": "value",
        "SPACED": "padded value",
        "DOUBLE": "with spaces # and a hash",
        "SINGLE": "it''s",
        "EXPORTED": "yes",
        "EMPTY": "",
        "EQUALS": "a=b=c",
    }


def test_load_dotenv_strips_only_matching_quotes(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    env.load_dotenv(write(tmp_path, 'A="open\nB=\'mixed"\nC=""\n'), environ)
    assert environ == {"A": '"open', "B": "'mixed\"", "C": ""}


def test_load_dotenv_never_overrides_the_environment(tmp_path: Path) -> None:
    environ = {"SECRET_KEY": "from-the-environment", "EMPTY_BUT_SET": ""}
    env.load_dotenv(
        write(tmp_path, "SECRET_KEY=from-the-file\nEMPTY_BUT_SET=file\nNEW=file\n"), environ
    )
    assert environ == {
        "SECRET_KEY": "from-the-environment",
        "EMPTY_BUT_SET": "",
        "NEW": "file",
    }


def test_load_dotenv_fills_os_environ_by_default(tmp_path: Path) -> None:
    with mock.patch.dict(os.environ, {"KEEP": "env"}, clear=True):
        env.load_dotenv(write(tmp_path, "KEEP=file\nADDED=file\n"))
        assert os.environ["KEEP"] == "env"
        assert os.environ["ADDED"] == "file"
    assert "ADDED" not in os.environ


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("OK=1\n# fine\nthis line has no equals sign\n", 3),
        ("OK=1\n=no key\n", 2),
        ("1ABC=starts with a digit\n", 1),
        ("OK=1\n\n\nBAD-NAME=x\n", 4),
        ("export\n", 1),
    ],
)
def test_load_dotenv_names_the_line_number_of_a_bad_line(
    tmp_path: Path, text: str, line: int
) -> None:
    with pytest.raises(ImproperlyConfigured, match=rf"\.env line {line}\b"):
        env.load_dotenv(write(tmp_path, text), {})


def test_load_dotenv_ignores_a_missing_file(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    env.load_dotenv(tmp_path / "absent.env", environ)
    assert environ == {}


# --- Start-up from the command line ------------------------------------------------------------


def test_manage_py_check_with_a_bad_zoom_plan_names_it_without_a_traceback() -> None:
    result = manage_py("check", environ=production(ZOOM_PLAN="gold"))
    assert result.returncode != 0
    assert "ZOOM_PLAN" in result.stderr
    assert "gold" in result.stderr
    assert "Traceback" not in result.stderr


def test_manage_py_check_passes_with_a_good_environment() -> None:
    """The control for the test above: the same command, a valid plan."""
    environ = production(ZOOM_PLAN="pro", DATABASE_URL="sqlite:////tmp/zoomadmin-check.sqlite3")
    result = manage_py("check", environ=environ)
    assert result.returncode == 0, result.stderr

"""Test settings: the production settings module, fed a test environment.

Only the environment is set here, so the suite exercises the same settings code a
deployment runs. DATABASE_URL is the one value taken from outside (CI sets a
PostgreSQL one); everything else is fixed so a developer's shell cannot leak in.
"""

import os

TEST_ENVIRONMENT = {
    "DOTENV_FILE": "",  # a developer's .env (real Zoom credentials?) never reaches a test
    "DEBUG": "0",
    "SECRET_KEY": "test-secret-key-" + "x" * 48,
    "TOKEN_ENCRYPTION_KEYS": "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktMDAwMDA=",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    # The test client speaks plain http to "testserver"; HTTPS behaviour has its own tests.
    "SECURE_SSL_REDIRECT": "0",
    "ZOOM_SANDBOX": "0",
    "ZOOM_API_BASE_URL": "https://api.zoom.us/v2",
    "ZOOM_OAUTH_BASE_URL": "https://zoom.us",
    "ZOOM_ACCOUNT_ID": "sandbox-account",
    "ZOOM_CLIENT_ID": "sandbox-client",
    "ZOOM_CLIENT_SECRET": "sandbox-secret",
    "ZOOM_PLAN": "business",
}
os.environ.update(TEST_ENVIRONMENT)

from zoomadmin.settings import *  # noqa: E402, F403

# Password hashing is deliberately slow; tests sign in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Serve static files from the app folders, as in development: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Enqueued tasks (a "Sync now") run at once, inside the request: no worker in tests.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

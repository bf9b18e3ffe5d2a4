from __future__ import annotations

from django.db import models


class ZoomToken(models.Model):
    """The Zoom OAuth tokens of one connection, encrypted with TOKEN_ENCRYPTION_KEYS.

    One row per connection; every process reads it and refreshes it under a row lock,
    so concurrent requests fetch one token, not one each.
    """

    connection = models.CharField(max_length=32, unique=True, default="default")
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Zoom token ({self.connection})"

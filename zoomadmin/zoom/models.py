from __future__ import annotations

from django.db import models


class ZoomToken(models.Model):
    """The Zoom OAuth tokens of one connection, encrypted with TOKEN_ENCRYPTION_KEYS.

    One row per connection; every process reads it and refreshes it under a row lock,
    so concurrent requests fetch (or spend a refresh token) once, not once each.
    """

    connection = models.CharField(max_length=32, unique=True, default="default")
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.TextField(blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.CharField(max_length=150, blank=True)
    # Set when Zoom refused our refresh token for good: only an administrator can
    # reconnect, and until then nobody should hammer Zoom with a dead token.
    broken_reason = models.TextField(blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Zoom token ({self.connection})"


class RateLimitBucket(models.Model):
    """The next free send slot of one Zoom rate-limit category, shared by all processes.

    Zoom counts requests per account and category (ZOOM_API.md section 4); every thread
    and process of the dashboard reserves its slot here, so together they never send
    more than the plan allows.
    """

    category = models.CharField(max_length=16, primary_key=True)
    next_slot = models.FloatField(default=0.0)  # epoch seconds
    # A daily limit cannot be waited out: until this time, calls fail fast.
    blocked_until = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"Zoom {self.category} rate limit"


class ZoomCircuit(models.Model):
    """Zoom's health as this dashboard saw it: the shared circuit breaker, the last error."""

    name = models.CharField(max_length=16, primary_key=True, default="api")
    consecutive_failures = models.PositiveIntegerField(default=0)
    open_until = models.FloatField(default=0.0)  # epoch seconds
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Zoom circuit ({self.name})"

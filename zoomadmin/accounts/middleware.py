from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's login-required-by-default, plus a redirect htmx can follow.

    An htmx request answered with a plain 302 would swap the sign-in page into the
    middle of the search results; ``HX-Redirect`` makes the browser go there instead.
    """

    def handle_no_permission(  # type: ignore[override] # an HX-Redirect, not a 302
        self, request: HttpRequest, view_func: Callable[..., Any]
    ) -> HttpResponse:
        htmx = getattr(request, "htmx", None)
        if htmx:
            login_url = resolve_url(self.get_login_url(view_func))
            current_url = htmx.current_url_abs_path or "/"
            target: HttpResponseRedirect = redirect_to_login(current_url, login_url)
            return HttpResponseClientRedirect(target["Location"])
        return super().handle_no_permission(request, view_func)

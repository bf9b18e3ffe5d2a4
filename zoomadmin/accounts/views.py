from __future__ import annotations

from django.contrib.auth import views as auth_views

from zoomadmin.accounts.forms import SignInForm


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django's own rule): a link or an image cannot sign staff out."""

from django.contrib import admin
from django.urls import include, path

from zoomadmin import views
from zoomadmin.accounts.views import SignInView, SignOutView

handler403 = "zoomadmin.views.permission_denied"

urlpatterns = [
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("audit/", include("zoomadmin.audit.urls")),
    path("directory/", include("zoomadmin.directory.urls")),
    path("zoom/", include("zoomadmin.zoom.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("zoomadmin.helpdesk.urls")),
]

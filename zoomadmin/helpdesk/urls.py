from django.urls import path

from zoomadmin.helpdesk import views

app_name = "helpdesk"

urlpatterns = [
    path("", views.search, name="search"),
    path("force-logout/confirm/", views.force_logout_confirm, name="force_logout_confirm"),
    path("force-logout/", views.force_logout, name="force_logout"),
]

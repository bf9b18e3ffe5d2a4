from django.urls import path

from zoomadmin.directory import views

app_name = "directory"

urlpatterns = [
    path("sync/", views.sync_now, name="sync_now"),
]

from django.urls import path

from zoomadmin.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("<int:event_id>/", views.event_detail, name="event"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.jsonl", views.export_jsonl, name="export_jsonl"),
]

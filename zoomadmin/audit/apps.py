from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "zoomadmin.audit"
    label = "audit"
    verbose_name = "Audit log"

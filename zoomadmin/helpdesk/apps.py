from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "zoomadmin.helpdesk"
    label = "helpdesk"
    verbose_name = "Helpdesk"

from django.apps import AppConfig


class ZoomConfig(AppConfig):
    name = "zoomadmin.zoom"
    label = "zoom"
    verbose_name = "Zoom connection"

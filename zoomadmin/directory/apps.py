from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "zoomadmin.directory"
    label = "directory"
    verbose_name = "Zoom directory"

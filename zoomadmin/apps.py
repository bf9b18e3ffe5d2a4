from django.contrib.admin.apps import AdminConfig


class ZoomadminAdminConfig(AdminConfig):
    default_site = "zoomadmin.admin.SuperuserAdminSite"

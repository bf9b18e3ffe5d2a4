from django.contrib import admin
from django_tasks_db.models import DBTaskResult

# django-tasks-db registers its queue table in the admin. The queue is plumbing (the
# sync runs it carries are on the search page), and every admin URL is one more door to
# keep in tests/test_access.py: keep it out.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

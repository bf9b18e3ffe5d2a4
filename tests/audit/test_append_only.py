"""The audit table has no update or delete path from the application."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory

from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AppendOnlyError, AuditEvent, Outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    return record(Action.SEARCH, actor_username="someone", outcome=Outcome.SUCCESS)


def test_saving_an_existing_row_is_refused(event: AuditEvent) -> None:
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_deleting_a_row_is_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_changes_are_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["reason"])
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"reason": "x"})
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_the_admin_is_read_only(event: AuditEvent, superuser: object) -> None:
    model_admin = site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = superuser  # type: ignore[assignment]
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_the_admin_shows_a_row_but_offers_no_save_or_delete(
    event: AuditEvent, superuser: object
) -> None:
    client = Client()
    client.force_login(superuser)  # type: ignore[arg-type]
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "someone" in body
    assert 'name="_save"' not in body
    assert "/delete/" not in body
    post = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"reason": "x"})
    assert post.status_code == 403
    delete = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


def test_a_staff_account_with_history_cannot_be_deleted(superuser: object) -> None:
    from django.db.models import ProtectedError

    record(Action.SIGN_IN, actor=superuser, outcome=Outcome.SUCCESS)  # type: ignore[arg-type]
    with pytest.raises(ProtectedError):
        superuser.delete()  # type: ignore[attr-defined]

"""The audit trail: who did what to the register, rules, holds and tokens; names only where values could be
personal data; read-only in the admin, even for superusers; exported as CSV by the admin and a command."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from processing.models import ProcessingActivity
from retention.models import LegalHold
from ropa.api.models import ApiToken
from ropa.api.services import api_token_revoke
from ropa.audit.context import audit_actor
from ropa.audit.models import AuditEvent, ImmutableAuditEvent
from ropa.audit.registry import AUDITED
from tests.factories import ControllerFactory

pytestmark = pytest.mark.django_db


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def test_admin_change_to_the_register_names_the_user_and_keeps_values(dpo_client, dpo):
    from tests.support.forms import activity_form

    controller = ControllerFactory(key="initech")
    response = dpo_client.post(reverse("admin:processing_processingactivity_add"), activity_form(controller))
    assert response.status_code == 302
    activity = ProcessingActivity.objects.get(reference="NEW-1")
    [created] = events(object_type="processing.processingactivity", object_id=str(activity.pk), action="create")
    assert (created.actor, created.actor_user) == ("dpo", dpo)
    assert created.changes["reference"] == [None, "NEW-1"]
    assert created.object_repr == str(activity)
    # The rule added on the same page is an event of the same user.
    assert events(object_type="retention.retentionrule", actor="dpo", action="create")


def test_many_to_many_changes_are_audited_with_the_ids():
    from tests.factories import DataCategoryFactory, ProcessingActivityFactory

    activity = ProcessingActivityFactory()
    category = DataCategoryFactory()
    activity.data_categories.add(category)
    activity.data_categories.remove(category)
    added, removed = events(object_type="processing.processingactivity", changed_fields=["data_categories"])
    assert added.changes == {"data_categories": {"add": [category.pk]}}
    assert removed.changes == {"data_categories": {"remove": [category.pk]}}


def test_api_writes_name_the_token_and_custom_actions_are_named(world):
    response = world.api("dpo").post("legal-holds/", {"controller": "acme", "reason": "Litigation with Jan Peeters"})
    assert response.status_code == 201, response.json()
    hold = LegalHold.objects.get()
    token = ApiToken.objects.get(role="dpo")
    [placed] = events(object_type="retention.legalhold")
    assert placed.action == "hold placed"
    assert placed.actor == f"token {token.token_key} dpo test (dpo)"
    assert placed.actor_token == token.token_key
    # The reason is free text: its name is listed, its words are not kept, nor is the hold's text shown.
    assert "reason" in placed.changed_fields
    assert "reason" not in placed.changes
    assert "Peeters" not in placed.object_repr
    world.api("dpo").post(f"legal-holds/{hold.pk}/release/", {"reason": "Settled with Jan Peeters"})
    released = events(object_type="retention.legalhold")[-1]
    assert released.action == "hold released"
    assert "Peeters" not in str(AuditEvent.objects.values_list("changes", "object_repr", "changed_fields"))


def test_tokens_issued_and_revoked_by_a_command_are_audited_without_their_secret(world, capsys):
    with audit_actor("command:issue_token"):
        call_command("issue_token", "--role", "auditor", "--name", "External auditor")
    plaintext = capsys.readouterr().out
    token = ApiToken.objects.get(name="External auditor")
    [issued] = events(object_type="api.apitoken", action="token issued", object_id=token.token_key)
    assert issued.actor == "command:issue_token"
    assert issued.changes["role"] == [None, "auditor"]
    api_token_revoke(token=token)
    [revoked] = events(object_type="api.apitoken", action="token revoked")
    assert revoked.object_id == token.token_key
    dump = str(list(AuditEvent.objects.values()))
    assert token.digest not in dump
    for word in plaintext.split():
        if word.startswith("ropa_"):
            assert word not in dump


def test_a_process_without_a_name_is_the_system():
    ControllerFactory(key="acme")
    assert events()[-1].actor == "system"


def test_every_register_model_is_audited():
    labels = {spec.label for spec in AUDITED}
    from django.apps import apps

    register = {m._meta.label for m in apps.get_app_config("processing").get_models()}
    register -= {m._meta.label for m in apps.get_app_config("processing").get_models() if "Historical" in m.__name__}
    assert register <= labels
    assert {"retention.RetentionRule", "retention.LegalHold", "api.ApiToken"} <= labels
    # Personal-data tables are never audited through signals: the sweep erases them set-based.
    assert not labels & {"subjects.DataSubject", "subjects.PersonalDataRecord"}


def test_events_cannot_be_changed_or_deleted_through_the_app():
    ControllerFactory(key="acme")
    event = AuditEvent.objects.first()
    event.actor = "someone else"
    with pytest.raises(ImmutableAuditEvent):
        event.save()
    with pytest.raises(ImmutableAuditEvent):
        event.delete()


def test_the_admin_is_read_only_even_for_superusers(dpo_client):
    ControllerFactory(key="acme")
    event = AuditEvent.objects.first()
    assert dpo_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert dpo_client.post(delete, {"post": "yes"}).status_code == 403
    page = dpo_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    dpo_client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"actor": "forged"})
    event.refresh_from_db()
    assert event.actor == "system"
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_filters_by_actor_action_model_and_date_and_exports_csv(dpo_client, world):
    world.api("dpo").post("legal-holds/", {"controller": "acme", "reason": "Audit"})
    url = reverse("admin:audit_auditevent_changelist")
    hour_ago = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    for query in (
        {"action": "hold placed"},
        {"object_type": "retention.legalhold"},
        {"actor": "system"},
        {"at__gte": hour_ago},
    ):
        response = dpo_client.get(url, query)
        assert response.status_code == 200, query
        assert response.context["cl"].result_count >= 1, query
    assert dpo_client.get(url, {"action": "hold placed", "actor": "system"}).context["cl"].result_count == 0
    ids = [str(pk) for pk in AuditEvent.objects.values_list("pk", flat=True)]
    response = dpo_client.post(url, {"action": "export_csv", "_selected_action": ids})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(ids)
    assert {"hold placed", "token issued", "create"} <= {row["action"] for row in rows}


def test_export_audit_command_writes_events_since_a_day(world, tmp_path):
    old = AuditEvent.objects.first()
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(days=40))
    out = tmp_path / "audit.csv"
    since = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    call_command("export_audit", "--since", since, "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == AuditEvent.objects.count() - 1
    assert all(row["at"] >= since for row in rows)


@pytest.mark.parametrize(
    "args", [["--since", "yesterday"], ["--since", "2026-02-30"], ["--since", "2026-02-01", "--until", "2026-01-01"]]
)
def test_export_audit_refuses_bad_dates(args):
    with pytest.raises(CommandError):
        call_command("export_audit", *args)


def test_a_celery_task_acts_under_its_name(world):
    from celery.signals import task_postrun, task_prerun

    from retention.tasks import retention_enforce_task as task

    task_prerun.send(sender=task, task_id="t-1", task=task, args=(), kwargs={})
    try:
        ControllerFactory(key="initech")
    finally:
        task_postrun.send(sender=task, task_id="t-1", task=task, args=(), kwargs={}, retval=None, state="SUCCESS")
    assert events()[-1].actor == f"task:{task.name}"
    ControllerFactory(key="initrode")
    assert events()[-1].actor == "system"


def test_data_subject_requests_are_audited_with_field_names_only():
    from subjects.services import dsr_receive, dsr_reject
    from tests.factories import DataSubjectFactory

    subject = DataSubjectFactory(identifiers={"email": "jan.peeters@example.be"})
    request = dsr_receive(controller=subject.controller, subject=subject, type="access", note="Jan Peeters asked")
    dsr_reject(request=request, reason="Jan Peeters is not a customer", actor=None)
    created, rejected = events(object_type="subjects.datasubjectrequest", object_id=str(request.pk))
    assert (created.action, rejected.action) == ("create", "update")
    assert "status" in rejected.changed_fields
    assert created.object_repr == rejected.object_repr == f"data-subject request #{request.pk}"
    stored = str([(e.changes, e.changed_fields, e.object_repr) for e in (created, rejected)])
    assert "Peeters" not in stored
    assert "example.be" not in stored

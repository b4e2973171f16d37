"""The audit trail and controller scopes: every event keeps its object's controller, and a user limited to
some controllers lists, opens, filters and exports only the events about theirs."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from retention.services import legal_hold_place, retention_enforce
from ropa.access.groups import DPO_GROUP
from ropa.access.models import ControllerAccess
from ropa.api.services import api_token_issue
from ropa.audit.context import audit_actor
from ropa.audit.models import AuditEvent
from subjects.models import DataSubject
from subjects.services import dsr_receive
from tests.auth import login_verified
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
    RetentionRuleFactory,
)
from tests.support.records import NOW, RetentionWorld

pytestmark = pytest.mark.django_db

OUR_ACTOR = "command:our-import"
THEIR_ACTOR = "command:their-import"


@pytest.fixture
def trail(dpo):
    """Two controllers' worth of events: ours written by one process, theirs by a process named after them, and a
    vocabulary entry (no controller)."""
    with audit_actor(OUR_ACTOR):
        ours = ProcessingActivityFactory()
    with audit_actor(THEIR_ACTOR):
        world = RetentionWorld()
        world.rule(action="anonymise", grace_days=0)
        world.record()
        retention_enforce(now=NOW, controller=world.controller)
        retention_enforce(now=NOW + dt.timedelta(days=1), controller=world.controller)  # erases, forgets
        PurposeFactory(activity=world.activity).delete()
        RecipientFactory(controller=world.controller)
        legal_hold_place(activity=world.activity, reason="Litigation", actor=dpo)
        api_token_issue(role="system", name="their crm", controllers=[world.controller], source_system="theirs")
        dsr_receive(controller=world.controller, subject=DataSubject.objects.first(), type="access")
    DataCategoryFactory()  # shared vocabulary (the world made one too): about no controller
    return ours, world


@pytest.fixture
def limited_client(django_user_model, trail):
    ours, _ = trail
    user = django_user_model.objects.create_user("limited", "limited@example.org", "a-long-password", is_staff=True)
    user.groups.add(Group.objects.get(name=DPO_GROUP))
    ControllerAccess.objects.create(user=user).controllers.set([ours.controller])
    return login_verified(Client(), user)


def test_every_event_keeps_the_controller_of_its_object(trail):
    ours, theirs = trail
    types = {
        "processing.controller",
        "processing.processingactivity",
        "processing.purpose",
        "processing.recipient",
        "retention.retentionrule",
        "retention.retentionrun",
        "retention.legalhold",
        "api.apitoken",
        "subjects.datasubjectrequest",
        "subjects.datasubject",
    }
    their_events = AuditEvent.objects.filter(actor=THEIR_ACTOR).exclude(object_type="processing.datacategory")
    assert types <= set(their_events.values_list("object_type", flat=True))
    assert set(their_events.values_list("controller_id", flat=True)) == {theirs.controller.pk}
    assert AuditEvent.objects.get(object_type="processing.processingactivity", object_id=ours.pk).controller == (
        ours.controller
    )
    vocabulary = AuditEvent.objects.filter(object_type="processing.datacategory")
    assert set(vocabulary.values_list("controller", flat=True)) == {None}


def test_a_token_of_several_controllers_belongs_to_none_alone(dpo):
    one, two = ControllerFactory(), ControllerFactory()
    api_token_issue(role="auditor", name="both", controllers=[one, two], actor=dpo)
    api_token_issue(role="auditor", name="one", controllers=[one], actor=dpo)
    events = AuditEvent.objects.filter(object_type="api.apitoken", action="token issued")
    assert {e.object_repr.split(" (")[0]: e.controller_id for e in events} == {"both": None, "one": one.pk}


def test_limited_user_lists_and_opens_only_their_controllers_events(limited_client, trail):
    ours, theirs = trail
    changelist = limited_client.get(reverse("admin:audit_auditevent_changelist"))
    shown = set(changelist.context["cl"].queryset.values_list("controller_id", flat=True))
    assert shown == {ours.controller.pk}
    html = changelist.content.decode()
    assert theirs.controller.name not in html and "their crm" not in html and THEIR_ACTOR not in html
    theirs_event = AuditEvent.objects.filter(actor=THEIR_ACTOR).first()
    vocabulary_event = AuditEvent.objects.filter(object_type="processing.datacategory").first()
    for event in (theirs_event, vocabulary_event):
        page = limited_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
        assert page.status_code == 302  # "does not exist": back to the index
        history = limited_client.get(reverse("admin:audit_auditevent_history", args=[event.pk]))
        assert history.status_code == 302
    own = AuditEvent.objects.filter(controller=ours.controller).first()
    assert limited_client.get(reverse("admin:audit_auditevent_change", args=[own.pk])).status_code == 200


def test_limited_users_filters_offer_no_other_controllers_actors_or_types(limited_client, trail):
    changelist = limited_client.get(reverse("admin:audit_auditevent_changelist"))
    choices = {
        spec.title: {choice["display"] for choice in spec.choices(changelist.context["cl"])}
        for spec in changelist.context["cl"].filter_specs
    }
    assert THEIR_ACTOR not in choices["actor"] and OUR_ACTOR in choices["actor"]
    # Types by the names the models give themselves.
    assert "Legal hold" not in choices["object type"]
    assert "Processing activity" in choices["object type"]
    # Filtering by their actor by hand finds nothing either.
    filtered = limited_client.get(reverse("admin:audit_auditevent_changelist"), {"actor": THEIR_ACTOR})
    assert filtered.context["cl"].result_count == 0


def test_limited_users_csv_export_leaves_other_controllers_events_out(limited_client, trail):
    ours, _ = trail
    every_id = [str(pk) for pk in AuditEvent.objects.values_list("pk", flat=True)]
    response = limited_client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "export_csv", "_selected_action": every_id, "select_across": "0"},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert THEIR_ACTOR not in body and "datacategory" not in body
    rows = body.strip().splitlines()[1:]
    assert len(rows) == AuditEvent.objects.filter(controller=ours.controller).count() > 0


def test_unlimited_dpo_reads_every_event(dpo_client, trail):
    changelist = dpo_client.get(reverse("admin:audit_auditevent_changelist"))
    assert changelist.context["cl"].queryset.count() == AuditEvent.objects.count()


def test_migration_gives_existing_events_the_controller_of_their_object(trail):
    ours, theirs = trail
    expected = dict(AuditEvent.objects.values_list("pk", "controller_id"))
    AuditEvent.objects.update(controller=None)  # as before the migration (a queryset update, as it does)
    migration = importlib.import_module("ropa.audit.migrations.0002_event_controller")
    migration.backfill(apps, None)
    now = dict(AuditEvent.objects.values_list("pk", "controller_id"))
    # The deleted purpose is gone: its events stay blank, every other one is filled in as it was written.
    deleted = set(AuditEvent.objects.filter(object_type="processing.purpose").values_list("pk", flat=True))
    assert all(now[pk] is None for pk in deleted)
    assert {pk: c for pk, c in now.items() if pk not in deleted} == {
        pk: c for pk, c in expected.items() if pk not in deleted
    }
    assert theirs.controller.pk in now.values() and ours.controller.pk in now.values()


def test_rule_events_name_the_rule_activity_controller():
    rule = RetentionRuleFactory()
    event = AuditEvent.objects.get(object_type="retention.retentionrule", object_id=rule.pk)
    assert event.controller_id == rule.activity.controller_id

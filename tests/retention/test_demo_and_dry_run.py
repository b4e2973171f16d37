"""A trial register at work: ``load_demo`` adds synthetic records (some past their retention, some due, one
held) and sweeps once; the DPO's "dry run of the sweep now" on the runs list counts without changing."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from retention.models import LegalHold, RetentionRun, Tombstone
from ropa.access.groups import AUDITOR_GROUP
from ropa.celery import app
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord
from tests.auth import login_verified
from tests.support.records import RetentionWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def statements():
    call_command("load_statements", verbosity=0)


def test_load_demo_shows_records_flagged_due_erased_and_held_and_adds_nothing_twice(statements, settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    said = capsys.readouterr().out
    demo = PersonalDataRecord.objects.filter(source_system="demo")
    controllers = set(demo.values_list("activity__controller__key", flat=True))
    assert controllers >= {"voiceking", "conitro", "c-dot", "codex-connectors"}, controllers
    run = RetentionRun.objects.get(origin="demo")
    assert not run.dry_run and run.flagged > 0 and run.deleted > 0 and run.skipped_for_hold == 1
    assert f"Sweep (run {run.pk}): flagged {run.flagged}" in said
    # The review queue has flag-only records waiting for the DPO; the dashboard has records due within 30 days.
    assert demo.filter(status=RecordStatus.FLAGGED).exists()
    now = timezone.now()
    assert demo.filter(status=RecordStatus.ACTIVE, expires_at__gt=now, expires_at__lte=now + dt.timedelta(days=30))
    # The held record ran out under a rule that erases, and is still there.
    hold = LegalHold.objects.get()
    assert hold.record.expires_at <= now and hold.record.status != RecordStatus.ERASED
    assert Tombstone.objects.filter(run=run).count() == run.deleted
    assert all(record.payload.get("synthetic") for record in demo.exclude(status=RecordStatus.ERASED))

    before = demo.count()
    call_command("load_demo")
    assert "nothing added" in capsys.readouterr().out
    assert demo.count() == before and RetentionRun.objects.count() == 1


def test_load_demo_is_refused_outside_a_trial_register(statements, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("load_demo")
    assert not PersonalDataRecord.objects.exists()


@pytest.fixture
def inline_tasks():
    """The queued task runs in the request here (tests/retention/test_processes.py runs it on a real worker)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_dpo_runs_a_dry_run_of_the_sweep_from_the_runs_list_and_nothing_changes(dpo_client, inline_tasks):
    world = RetentionWorld()
    world.rule(action="delete", grace_days=0)
    record = world.record()  # collected in 2020, a year's retention: long past
    changelist = reverse("admin:retention_retentionrun_changelist")
    page = dpo_client.get(changelist).content.decode()
    assert "Dry run of the sweep now" in page
    url = reverse("admin:retention_retentionrun_dry_run")
    assert dpo_client.get(url).status_code == 405

    response = dpo_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == changelist
    assert "A dry run of the sweep is queued" in response.content.decode()
    run = RetentionRun.objects.get()
    assert (run.dry_run, run.origin, run.flagged, run.deleted) == (True, "admin", 1, 1)
    record.refresh_from_db()
    assert record.status == RecordStatus.ACTIVE and not Tombstone.objects.exists()


@pytest.fixture
def auditor_client(client, django_user_model):
    auditor = django_user_model.objects.create_user("auditor", "auditor@example.org", "a-long-test-password")
    auditor.is_staff = True
    auditor.save()
    auditor.groups.add(Group.objects.get(name=AUDITOR_GROUP))
    return login_verified(client, auditor)


def test_an_auditor_has_no_dry_run_button_and_is_refused(auditor_client, inline_tasks):
    assert "Dry run of the sweep now" not in auditor_client.get(
        reverse("admin:retention_retentionrun_changelist")
    ).content.decode()
    assert auditor_client.post(reverse("admin:retention_retentionrun_dry_run")).status_code == 403
    assert not RetentionRun.objects.exists()

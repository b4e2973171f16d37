"""The dashboard on the admin index and the review queue of flagged records."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from processing.choices import ActivityStatus
from retention.models import LegalHold, RetentionRun, Tombstone
from retention.services import legal_hold_place, record_register, retention_enforce
from ropa.audit.models import AuditEvent
from ropa.site.dashboard import FIGURES, Context, dashboard, due_per_month
from subjects.choices import RecordStatus, RequestStatus
from subjects.models import DataSubjectRequest, PersonalDataRecord, ReviewDecision
from subjects.services import dsr_receive
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
    RetentionRuleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Requests in another language leave it active in this thread: give the next test English again."""
    yield
    translation.activate("en")


def _record(activity, category, collected_on, n=[0]):  # noqa: B006 - a counter for unique ids
    n[0] += 1
    return record_register(
        subject=DataSubjectFactory(controller=activity.controller),
        activity=activity,
        data_category=category,
        source_system="crm",
        external_id=f"D-{n[0]}",
        payload={"name": f"Person {n[0]}"},
        dates={"collected_on": collected_on},
    )


@pytest.fixture
def scene(dpo):
    """Two controllers. The first: an active, an ended (with a non-EEA recipient) activity; records due in
    ten days, one flagged and one held; a run. The second: nothing but one complete-looking activity."""
    today = timezone.localdate()
    first = ProcessingActivityFactory()
    controller = first.controller
    ended = ProcessingActivityFactory(controller=controller, status=ActivityStatus.ENDED, ended_on=today)
    ended.recipients.add(RecipientFactory(controller=controller, country="US", safeguard="scc"))
    category = DataCategoryFactory()
    RetentionRuleFactory(activity=first, trigger="collection", duration_value=1, duration_unit="years",
                         action="delete", grace_days=30)
    due = [_record(first, category, today - dt.timedelta(days=365 - 10)) for _ in range(3)]
    expired = [_record(first, category, today - dt.timedelta(days=400)) for _ in range(2)]
    run = retention_enforce(now=timezone.now())  # flags both expired records
    hold = legal_hold_place(record=expired[0], reason="Litigation", actor=dpo)
    second = ProcessingActivityFactory()
    PurposeFactory(activity=second)
    # Requests: one received 40 days ago (overdue), one 27 days ago (due within a week), one today (not yet
    # due soon), one overdue but paused for an identity check (its clock stands still).
    subject = DataSubjectFactory(controller=controller)
    for days in (40, 27, 0):
        dsr_receive(controller=controller, subject=subject, type="access", received_on=today - dt.timedelta(days=days))
    month_ago = today - dt.timedelta(days=40)
    paused = dsr_receive(controller=controller, subject=subject, type="erasure", received_on=month_ago)
    DataSubjectRequest.objects.filter(pk=paused.pk).update(status=RequestStatus.AWAITING_IDENTITY)
    return {
        "controller": controller, "other": second.controller, "due": due, "expired": expired,
        "run": run, "hold": hold, "first": first,
    }


def _cells(board, key):
    index = [figure.key for figure in FIGURES].index(key)
    return {c.pk: cell for c, cell in zip(board.controllers, board.rows[index][1], strict=True)}


def test_figures_per_controller(dpo, scene):
    translation.activate("en")
    board = dashboard(user=dpo)
    mine, other = scene["controller"].pk, scene["other"].pk
    assert _cells(board, "activities_active")[mine].value == 1
    assert _cells(board, "activities_ended")[mine].value == 1
    assert _cells(board, "transfers_outside_eea")[mine].value == 1
    assert _cells(board, "transfers_outside_eea")[other].value == 0
    assert _cells(board, "records_due")[mine].value == 3
    assert _cells(board, "records_flagged")[mine].value == 2
    assert _cells(board, "holds_in_force")[mine].value == 1
    assert _cells(board, "holds_in_force")[other].value == 0
    # Two activities (no purposes, no subjects, ...) and the controller's own identification (no contact, no DPO).
    assert _cells(board, "incomplete_entries")[mine].value == 3
    assert _cells(board, "requests_due")[mine].value == 1
    assert _cells(board, "requests_overdue")[mine].value == 1
    assert _cells(board, "requests_overdue")[mine].tone == "alert"
    assert _cells(board, "requests_overdue")[other].value == 0
    last = _cells(board, "last_run")[mine]
    assert last.tone == "ok" and "verifies" in str(last.note)
    assert last.url == reverse("admin:retention_retentionrun_change", args=[scene["run"].pk])


def test_last_run_shows_a_broken_chain(dpo, scene):
    retention_enforce(now=timezone.now() + dt.timedelta(days=40))  # erases the unheld flagged record
    assert Tombstone.objects.count() == 1
    Tombstone.objects.update(hash="0" * 64)
    translation.activate("en")
    cell = _cells(dashboard(user=dpo), "last_run")[scene["controller"].pk]
    assert cell.tone == "alert" and "broken" in str(cell.note)


def test_every_figure_links_to_a_list_that_shows_the_same_number(dpo_client, dpo, scene):
    board = dashboard(user=dpo)
    checked = 0
    keys = ("activities_active", "activities_ended", "transfers_outside_eea", "records_due", "holds_in_force")
    for key in (*keys, "requests_due", "requests_overdue"):
        for pk, cell in _cells(board, key).items():
            response = dpo_client.get(cell.url)
            assert response.status_code == 200
            assert response.context["cl"].result_count == cell.value, (key, pk, cell.url)
            checked += 1
    assert checked == 14
    queue = dpo_client.get(_cells(board, "records_flagged")[scene["controller"].pk].url)
    assert sum(group["count"] for group in queue.context["groups"]) == 2


def test_the_dashboard_costs_the_same_queries_for_a_larger_register(dpo_client, dpo, scene):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert dpo_client.get(reverse("admin:index")).status_code == 200
        return len(queries)

    before = count()
    category = DataCategoryFactory()
    for _ in range(5):
        activity = ProcessingActivityFactory(controller=scene["controller"])
        RetentionRuleFactory(activity=activity, trigger="collection", duration_value=1, duration_unit="years")
        activity.recipients.add(RecipientFactory(controller=scene["controller"], country="US", safeguard="scc"))
        for _ in range(3):
            _record(activity, category, timezone.localdate() - dt.timedelta(days=360))
    assert count() <= before + 2  # the snapshot reads activities in batches; nothing per row


def test_chart_counts_due_records_per_month(dpo, scene):
    ctx = Context(controllers=[scene["controller"], scene["other"]], now=timezone.now())
    series = due_per_month(ctx)
    assert len(series) == 12 and sum(n for _month, n in series) == 3
    board = dashboard(user=dpo)
    assert sum(bar.count for bar in board.chart) == 3 and max(bar.height for bar in board.chart) == 120


def test_index_renders_the_dashboard_with_an_svg_chart(dpo_client, scene):
    html = dpo_client.get(reverse("admin:index")).content.decode()
    assert 'id="ropa-dashboard"' in html and "<svg" in html
    assert scene["controller"].name in html and scene["other"].name in html
    bars = re.findall(r'<a href="([^"]*due=\d{4}-\d{2})"', html)
    assert len(bars) == 12


# --- the review queue ------------------------------------------------------------------------------


def test_queue_groups_flagged_records_without_payloads(dpo_client, scene):
    response = dpo_client.get(reverse("retention-review"))
    html = response.content.decode()
    (group,) = response.context["groups"]
    assert group["count"] == 2 and group["activity"] == scene["first"]
    assert group["sentence"] == group["rule"].sentence() and group["sentence"] in html
    assert "Person " not in html  # payload names
    held = {record.pk: record.is_held for record in group["records"]}
    assert held == {scene["expired"][0].pk: True, scene["expired"][1].pk: False}


def test_hold_from_the_queue_asks_for_a_reason_then_places_it(dpo_client, dpo, scene):
    target = scene["expired"][1]
    url = reverse("retention-review")
    confirm = dpo_client.post(url, {"action": "hold", "record": [target.pk]})
    assert confirm.status_code == 200 and "admin/retention/review_confirm.html" in [t.name for t in confirm.templates]
    missing = dpo_client.post(url, {"action": "hold", "record": [target.pk], "confirm": "1", "reason": " "})
    assert missing.status_code == 200 and LegalHold.objects.filter(record=target).count() == 0
    done = dpo_client.post(url, {"action": "hold", "record": [target.pk], "confirm": "1", "reason": "Audit 2026"})
    assert done.status_code == 302
    hold = LegalHold.objects.get(record=target)
    assert hold.reason == "Audit 2026" and hold.placed_by == dpo
    retention_enforce(now=timezone.now() + dt.timedelta(days=60))
    assert PersonalDataRecord.objects.filter(pk=target.pk, status=RecordStatus.FLAGGED).exists()


def test_letting_erasure_proceed_skips_the_grace_period_and_is_logged(dpo_client, dpo, scene):
    url = reverse("retention-review")
    group = f"{scene['first'].pk}:{scene['first'].retention_rules.get().pk}"
    confirm = dpo_client.post(url, {"action": "release", "group": [group]})
    assert "2 flagged records" in confirm.content.decode()
    dpo_client.post(url, {"action": "release", "group": [group], "confirm": "1"})
    held, free = scene["expired"]
    free.refresh_from_db()
    held.refresh_from_db()
    assert free.erase_after <= timezone.now() < held.erase_after  # the held one keeps its grace period
    (approval,) = ReviewDecision.objects.filter(record_id=free.pk)
    assert (approval.decision, approval.decided_by) == ("release", dpo)
    event = AuditEvent.objects.get(object_type="subjects.reviewdecision", object_id=str(approval.pk))
    assert (event.actor_user, event.controller_id) == (dpo, scene["first"].controller_id)
    assert not ReviewDecision.objects.filter(record_id=held.pk).exists()
    retention_enforce(now=timezone.now())
    assert not PersonalDataRecord.objects.filter(pk=free.pk, status=RecordStatus.FLAGGED).exists()
    assert PersonalDataRecord.objects.filter(pk=held.pk, status=RecordStatus.FLAGGED).exists()
    assert RetentionRun.objects.count() == 2

"""The review cadence of register entries: how fresh a review is, marking it done, the changes that ask for
one (through the services, the admin, the API and the loader), the weekly reminder and the dashboard row."""

import datetime as dt
import io

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from processing import rules
from processing.beat import BEAT_ENTRY_NAME
from processing.choices import ActivityStatus, ReviewStatus
from processing.models import ProcessingActivity
from processing.services import (
    activity_mark_reviewed,
    activity_review_remind,
    processing_activity_write,
)
from processing.tasks import reviews_remind_task
from ropa.audit.models import AuditEvent
from ropa.register.importer import load
from ropa.site.dashboard import FIGURES, dashboard
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    PersonalDataRecordFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
)
from tests.support.api import world  # noqa: F401 - the API's world of two controllers and their tokens
from tests.support.forms import activity_form
from tests.support.register_file import GOOD

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")
    yield
    translation.activate("en")


# --- The rule -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "cycle", "needed", "today", "expected"),
    [
        (None, 12, None, D(2025, 6, 1), "overdue"),  # never reviewed
        (D(2024, 6, 1), 12, None, D(2025, 6, 1), "due"),  # falls due today
        (D(2024, 6, 1), 12, None, D(2025, 6, 2), "overdue"),
        (D(2024, 6, 1), 12, None, D(2025, 5, 2), "due"),  # 30 days before
        (D(2024, 6, 1), 12, None, D(2025, 5, 1), "current"),  # 31 days before
        (D(2025, 5, 1), 12, D(2025, 5, 20), D(2025, 6, 1), "needed"),  # a change asked, however fresh
        (None, 12, D(2025, 5, 20), D(2025, 6, 1), "needed"),
        # Month ends: Jan 31 + 1 month is the last day of February (29th in a leap year, 28th otherwise).
        (D(2024, 1, 31), 1, None, D(2024, 2, 29), "due"),
        (D(2024, 1, 31), 1, None, D(2024, 3, 1), "overdue"),
        (D(2023, 1, 31), 1, None, D(2023, 2, 28), "due"),
        (D(2023, 1, 31), 1, None, D(2023, 3, 1), "overdue"),
        (D(2024, 2, 29), 12, None, D(2025, 2, 28), "due"),
        (D(2024, 2, 29), 12, None, D(2025, 3, 1), "overdue"),
        (D(2024, 8, 31), 6, None, D(2025, 1, 1), "current"),  # due Feb 28: 58 days away
    ],
)
def test_review_freshness(last, cycle, needed, today, expected):
    assert rules.review_freshness(last_reviewed_on=last, cycle_months=cycle, needed_since=needed, today=today) == (
        expected
    )


def test_review_due_on_keeps_calendar_months():
    assert rules.review_due_on(last_reviewed_on=D(2024, 1, 31), cycle_months=1) == D(2024, 2, 29)
    assert rules.review_due_on(last_reviewed_on=D(2024, 3, 31), cycle_months=1) == D(2024, 4, 30)
    assert rules.review_due_on(last_reviewed_on=None, cycle_months=12) is None


def test_a_smaller_due_window_moves_due_to_current():
    kwargs = {"last_reviewed_on": D(2024, 6, 1), "cycle_months": 12, "needed_since": None, "today": D(2025, 5, 20)}
    assert rules.review_freshness(**kwargs) == "due"
    assert rules.review_freshness(**kwargs, due_days=7) == "current"


def _state(**overrides):
    state = {"recipients_outside_eea": {}, "special_categories": {}, "criminal_categories": {}, "purposes": {}}
    return {**state, **overrides}


def test_triggers_name_what_the_change_may_also_require():
    before = _state(purposes={1: ("Klantenbeheer", "contract")})
    assert rules.activity_review_triggers(None, _state(recipients_outside_eea={1: ("Mailer", "processor")})) == []
    assert rules.activity_review_triggers(before, before) == []

    (recipient,) = rules.activity_review_triggers(
        before, {**before, "recipients_outside_eea": {7: ("Mailer", "processor")}}
    )
    assert "Mailer" in recipient
    assert "transfer safeguard" in recipient and "processor agreement" in recipient and "privacy notice" in recipient
    (controller,) = rules.activity_review_triggers(
        before, {**before, "recipients_outside_eea": {7: ("Tax office", "public_authority")}}
    )
    assert "processor agreement" not in controller

    (health,) = rules.activity_review_triggers(before, {**before, "special_categories": {"health": "Gezondheid"}})
    assert "Art. 9" in health and "DPIA screening" in health and "privacy notice" in health
    (crime,) = rules.activity_review_triggers(before, {**before, "criminal_categories": {"crime": "Strafblad"}})
    assert "Art. 10" in crime and "DPIA screening" in crime

    (purpose,) = rules.activity_review_triggers(
        before, {**before, "purposes": {1: ("Klantenbeheer", "contract"), 2: ("Marketing", "consent")}}
    )
    assert "New purpose: Marketing" in purpose and "privacy notice" in purpose and "DPIA" in purpose
    (basis,) = rules.activity_review_triggers(before, {**before, "purposes": {1: ("Klantenbeheer", "consent")}})
    assert "Legal basis" in basis and "Consent (Art. 6(1)(a))" in basis and "DPIA" not in basis
    # A recipient or a category leaving is no trigger.
    assert rules.activity_review_triggers({**before, "special_categories": {"health": "Gezondheid"}}, before) == []


# --- Marking reviewed -----------------------------------------------------------------------------------


def test_marking_reviewed_sets_the_date_clears_the_flag_and_is_audited(dpo):
    activity = ProcessingActivityFactory(review_needed_reason="New purpose.", review_needed_since=D(2025, 1, 2))
    assert activity.review_status() == ReviewStatus.NEEDED
    activity_mark_reviewed(activity=activity, actor=dpo, today=D(2025, 3, 4))
    activity.refresh_from_db()
    assert activity.last_reviewed_on == D(2025, 3, 4)
    assert activity.review_needed_reason == "" and activity.review_needed_since is None
    assert activity.history.latest().history_user == dpo
    assert activity.history.latest().history_change_reason == "reviewed"
    event = AuditEvent.objects.filter(object_type="processing.processingactivity", object_id=str(activity.pk)).first()
    assert event.action == "update"
    assert {"last_reviewed_on", "review_needed_reason", "review_needed_since"} <= set(event.changed_fields)
    assert event.changes["last_reviewed_on"] == [None, "2025-03-04"]


# --- Changes that matter, through the service -----------------------------------------------------------


@pytest.fixture
def entry():
    activity = ProcessingActivityFactory(last_reviewed_on=timezone.localdate())
    PurposeFactory(activity=activity, description="Klantenbeheer", legal_basis="contract")
    return activity


def _purposes(activity, **changes):
    return [
        {"id": p.pk, "description": p.description, "legal_basis": p.legal_basis, **changes}
        for p in activity.purposes.all()
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("outside_recipient", "New recipient outside the EEA"),
        ("special", "New special-category data"),
        ("criminal", "New criminal-offence data"),
        ("purpose", "New purpose: Marketing"),
        ("basis", "Legal basis of the purpose"),
    ],
)
def test_each_change_that_matters_sets_review_needed_through_the_service(dpo, entry, change, expected):
    assert entry.review_status() == ReviewStatus.CURRENT
    data = {
        "outside_recipient": lambda: {
            "recipients": [RecipientFactory(controller=entry.controller, country="US", safeguard="scc")]
        },
        "special": lambda: {
            "data_categories": [DataCategoryFactory(code="health", special_category=True)],
            "art9_condition": "explicit_consent",
        },
        "criminal": lambda: {"data_categories": [DataCategoryFactory(code="crime", criminal=True)]},
        "purpose": lambda: {"purposes": [*_purposes(entry), {"description": "Marketing", "legal_basis": "consent"}]},
        "basis": lambda: {"purposes": _purposes(entry, legal_basis="consent")},
    }[change]()
    processing_activity_write(activity=entry, data=data, actor=dpo)
    entry.refresh_from_db()
    assert entry.review_status() == ReviewStatus.NEEDED
    assert expected in entry.review_needed_reason
    assert entry.review_needed_since == timezone.localdate()


def test_changes_that_do_not_matter_leave_the_review_alone(dpo, entry):
    processing_activity_write(
        activity=entry,
        data={
            "owner": "Sales",
            "recipients": [RecipientFactory(controller=entry.controller, country="BE")],
            "data_categories": [DataCategoryFactory(code="contact")],
            "purposes": _purposes(entry),
        },
        actor=dpo,
    )
    entry.refresh_from_db()
    assert entry.review_status() == ReviewStatus.CURRENT and entry.review_needed_reason == ""


def test_a_new_activity_is_not_flagged_but_is_unreviewed(dpo):
    controller = ControllerFactory()
    recipient = RecipientFactory(controller=controller, country="US", safeguard="scc")
    activity = processing_activity_write(
        activity=None,
        data={
            "controller": controller,
            "reference": "N-1",
            "name": "Nieuw",
            "recipients": [recipient],
            "purposes": [{"description": "Klantenbeheer", "legal_basis": "contract"}],
        },
        actor=dpo,
    )
    assert activity.review_needed_since is None
    assert activity.review_status() == ReviewStatus.OVERDUE


# --- Through the admin ----------------------------------------------------------------------------------


def _change_form(activity, **overrides):
    purpose = activity.purposes.get()
    data = activity_form(
        activity.controller,
        reference=activity.reference,
        last_reviewed_on=activity.last_reviewed_on.isoformat() if activity.last_reviewed_on else "",
        **{
            "purposes-INITIAL_FORMS": "1",
            "purposes-0-id": str(purpose.pk),
            "purposes-0-description": purpose.description,
            "purposes-0-legal_basis": purpose.legal_basis,
            "retention_rules-TOTAL_FORMS": "0",
        },
    )
    data.update(overrides)
    return data


def test_admin_save_adding_an_outside_eea_recipient_flags_and_warns(dpo_client, dpo, entry):
    recipient = RecipientFactory(controller=entry.controller, country="US", safeguard="scc", name="Mailer Inc")
    url = reverse("admin:processing_processingactivity_change", args=[entry.pk])
    response = dpo_client.post(url, _change_form(entry, recipients=[recipient.pk]))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    entry.refresh_from_db()
    assert entry.recipients.get() == recipient
    assert entry.review_status() == ReviewStatus.NEEDED
    assert "Mailer Inc" in entry.review_needed_reason
    warnings = [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1 and "transfer safeguard" in str(warnings[0])
    assert entry.history.latest().history_user == dpo
    page = dpo_client.get(url).content.decode()
    assert "activity-review-needed" in page and "Mailer Inc" in page


def test_admin_save_of_a_new_purpose_and_a_changed_basis_flags_once_each(dpo_client, entry):
    url = reverse("admin:processing_processingactivity_change", args=[entry.pk])
    form = _change_form(
        entry,
        **{
            "purposes-TOTAL_FORMS": "2",
            "purposes-0-legal_basis": "consent",
            "purposes-1-description": "Nieuwsbrief",
            "purposes-1-legal_basis": "consent",
            "purposes-1-position": "1",
        },
    )
    assert dpo_client.post(url, form).status_code == 302
    entry.refresh_from_db()
    reasons = entry.review_needed_reason.splitlines()
    assert len(reasons) == 2
    assert any("New purpose: Nieuwsbrief" in r for r in reasons) and any("Legal basis" in r for r in reasons)


def test_admin_save_without_a_change_that_matters_gives_no_warning(dpo_client, entry):
    url = reverse("admin:processing_processingactivity_change", args=[entry.pk])
    response = dpo_client.post(url, _change_form(entry, owner="Sales"))
    assert response.status_code == 302
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    entry.refresh_from_db()
    assert entry.owner == "Sales" and entry.review_needed_since is None


def test_mark_reviewed_button_asks_then_marks(dpo_client, dpo):
    activity = ProcessingActivityFactory(review_needed_reason="New purpose.", review_needed_since=D(2025, 1, 2))
    PurposeFactory(activity=activity)
    change = dpo_client.get(reverse("admin:processing_processingactivity_change", args=[activity.pk]))
    button = reverse("admin:processing_processingactivity_review", args=[activity.pk])
    assert button in change.content.decode()
    assert dpo_client.get(button).status_code == 200
    response = dpo_client.post(button)
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.last_reviewed_on == timezone.localdate() and activity.review_needed_since is None
    assert activity.history.latest().history_user == dpo


def test_mark_reviewed_admin_action(dpo_client):
    activities = [ProcessingActivityFactory() for _ in range(2)]
    for activity in activities:
        PurposeFactory(activity=activity)
    response = dpo_client.post(
        reverse("admin:processing_processingactivity_changelist"),
        {"action": "mark_reviewed", "_selected_action": [a.pk for a in activities]},
    )
    assert response.status_code == 302
    assert all(
        a.last_reviewed_on == timezone.localdate()
        for a in ProcessingActivity.objects.filter(pk__in=[x.pk for x in activities])
    )


def test_review_column_and_filter(dpo_client):
    today = timezone.localdate()
    controller = ControllerFactory()
    made = {
        "current": ProcessingActivityFactory(controller=controller, last_reviewed_on=today),
        "due": ProcessingActivityFactory(controller=controller, last_reviewed_on=today - dt.timedelta(days=350)),
        "overdue": ProcessingActivityFactory(controller=controller),
        "needed": ProcessingActivityFactory(
            controller=controller, last_reviewed_on=today, review_needed_since=today, review_needed_reason="x"
        ),
    }
    ProcessingActivityFactory(controller=controller, status=ActivityStatus.ENDED, ended_on=today)
    url = reverse("admin:processing_processingactivity_changelist")
    for value, activity in made.items():
        response = dpo_client.get(url, {"review": value})
        assert [a.pk for a in response.context["cl"].result_list] == [activity.pk], value
    todo = dpo_client.get(url, {"review": "todo"})
    assert {a.pk for a in todo.context["cl"].result_list} == {made[k].pk for k in ("due", "overdue", "needed")}
    page = dpo_client.get(url).content.decode()
    assert 'class="overdue review-overdue"' in page and 'class="due review-due"' in page
    assert 'class="overdue review-needed"' in page
    assert "column-review" in page and "column-reviewed" not in page


# --- Through the API ------------------------------------------------------------------------------------


def test_api_patch_adding_an_outside_eea_recipient_flags(world):  # noqa: F811 - the fixture
    activity = world.activity_a
    ProcessingActivity.objects.filter(pk=activity.pk).update(last_reviewed_on=timezone.localdate())
    api = world.api("dpo")
    before = api.get(f"processing-activities/{activity.pk}/").json()
    assert before["review_status"] == "current" and before["review_needed_reason"] == ""
    assert before["review_cycle_months"] is None
    response = api.patch(f"processing-activities/{activity.pk}/", {"recipients": ["mailer"], "review_cycle_months": 6})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["review_status"] == "needed"
    assert "New recipient outside the EEA" in body["review_needed_reason"]
    assert body["review_cycle_months"] == 6
    listed = api.get("processing-activities/", {"controller": "acme"}).json()["results"]
    assert {row["id"]: row["review_status"] for row in listed}[activity.pk] == "needed"
    # Read-only: a client cannot clear the flag by writing it.
    api.patch(f"processing-activities/{activity.pk}/", {"review_needed_reason": "", "review_status": "current"})
    activity.refresh_from_db()
    assert activity.review_needed_since is not None


def test_api_refuses_a_cycle_out_of_range(world):  # noqa: F811 - the fixture
    response = world.api("dpo").patch(f"processing-activities/{world.activity_a.pk}/", {"review_cycle_months": 0})
    assert response.status_code == 400
    assert "review_cycle_months" in response.json(), response.json()


# --- The loader -----------------------------------------------------------------------------------------


def test_loading_the_shipped_statements_flags_nothing():
    call_command("load_statements", verbosity=0, stdout=io.StringIO())
    assert ProcessingActivity.objects.exists()
    assert not ProcessingActivity.objects.exclude(review_needed_since=None).exists()
    assert not ProcessingActivity.objects.exclude(review_needed_reason="").exists()
    call_command("load_statements", verbosity=0, stdout=io.StringIO())
    assert not ProcessingActivity.objects.exclude(review_needed_since=None).exists()


def test_a_new_version_of_a_register_file_adding_special_data_flags_and_then_loads_as_unchanged(write):
    load(write(GOOD))
    activity = ProcessingActivity.objects.get(reference="AC-01")
    assert activity.review_needed_since is None
    changed = GOOD.replace("data_categories: [identification]", "data_categories: [identification, health]").replace(
        "recipients: [cloud]", "recipients: [cloud]\n        art9_condition: explicit_consent"
    )
    load(write(changed))
    activity.refresh_from_db()
    assert activity.review_needed_since is not None
    assert "New special-category data (Art. 9): Gezondheid." in activity.review_needed_reason
    assert activity.history.latest().history_change_reason.startswith("import ")
    assert not load(write(changed)).changed


# --- The weekly reminder and the dashboard --------------------------------------------------------------


def test_migrate_creates_the_weekly_review_beat_entry():
    entry = PeriodicTask.objects.get(name=BEAT_ENTRY_NAME)
    assert entry.task == "processing.reviews_remind" and entry.enabled
    cron = entry.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "7",
        "*",
        "*",
        "1",
    )


def test_reminder_mails_once_by_reference_and_name_without_personal_data(dpo_mail):
    today = timezone.localdate()
    controller = ControllerFactory(key="acme")
    overdue = ProcessingActivityFactory(controller=controller, reference="A-1", name="Klantenbeheer")
    needed = ProcessingActivityFactory(
        controller=controller,
        reference="A-2",
        name="Nieuwsbrief",
        last_reviewed_on=today,
        review_needed_since=today,
        review_needed_reason="New purpose: direct marketing to Jan Peeters.",
    )
    due = ProcessingActivityFactory(
        controller=controller, reference="A-3", name="Facturatie", last_reviewed_on=today - dt.timedelta(days=340)
    )
    current = ProcessingActivityFactory(controller=controller, reference="A-4", last_reviewed_on=today)
    PersonalDataRecordFactory(activity=overdue, payload={"name": "Jan Peeters"})
    mail.outbox.clear()
    result = reviews_remind_task()
    assert result == {"needed": [needed.pk], "overdue": [overdue.pk], "due": [due.pk]}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dpo@example.org"] and "1 needed, 1 overdue, 1 due" in message.subject
    body = message.body
    for activity in (overdue, needed, due):
        assert f"acme {activity.reference} {activity.name}: " in body
        assert reverse("admin:processing_processingactivity_change", args=[activity.pk]) in body
    assert current.reference not in body
    assert "Jan Peeters" not in body and "direct marketing" not in body
    assert "?review=todo" in body


def test_reminder_without_anything_to_review_sends_nothing(dpo_mail):
    ProcessingActivityFactory(last_reviewed_on=timezone.localdate())
    mail.outbox.clear()
    assert activity_review_remind() == {"needed": [], "overdue": [], "due": []}
    assert mail.outbox == []


def test_dashboard_row_counts_activities_to_review_and_links_to_the_filtered_list(dpo_client, dpo):
    today = timezone.localdate()
    first, second = ControllerFactory(), ControllerFactory()
    ProcessingActivityFactory(controller=first)  # overdue
    ProcessingActivityFactory(controller=first, last_reviewed_on=today - dt.timedelta(days=350))  # due
    ProcessingActivityFactory(controller=first, last_reviewed_on=today)  # current
    ProcessingActivityFactory(controller=first, status=ActivityStatus.ENDED, ended_on=today)  # not reviewed
    ProcessingActivityFactory(
        controller=second, last_reviewed_on=today - dt.timedelta(days=350), review_cycle_months=24
    )
    board = dashboard(user=dpo)
    index = [f.key for f in FIGURES].index("activities_to_review")
    cells = {c.pk: cell for c, cell in zip(board.controllers, board.rows[index][1], strict=True)}
    assert (cells[first.pk].value, cells[first.pk].tone) == (2, "alert")
    assert (cells[second.pk].value, cells[second.pk].tone) == (0, "ok")
    response = dpo_client.get(cells[first.pk].url)
    assert response.context["cl"].result_count == 2
    assert "activities to review" in dpo_client.get(reverse("admin:index")).content.decode().lower()

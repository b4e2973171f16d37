"""Breach deadline reminders: the DPO is mailed 24 hours and 6 hours before each open deadline (notifying
the authority, Part 2) and once when it is missed, each reminder once however often the beat runs; nothing
for a notified or closed breach's notification deadline; the mail names breaches by id, title and
controller, never their description nor anyone concerned. The beat entry after migrate, the dashboard's
breach rows per controller with their links, and the list's deadline filter."""

import datetime as dt
import threading
import time

import pytest
from django.contrib import admin
from django.core import mail
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from retention.breaches import reminders, services
from retention.breaches.beat import BEAT_ENTRY_NAME, ensure_beat_entry
from retention.breaches.choices import BreachStatus
from retention.breaches.filters import BreachDeadlineFilter
from retention.breaches.models import Breach
from retention.breaches.tasks import breach_remind_task
from retention.services import record_register
from ropa.site.dashboard import dashboard
from tests.factories import DataSubjectFactory

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
DESCRIPTION = "Jan Peeters' laptop with the payroll export was left on the train"
DISCOVERY = "Jan's neighbour phoned the helpdesk"


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    translation.activate("en")


def report(controller, *, aware_ago=H, title="Laptop lost", **kwargs) -> Breach:
    breach, _created = services.breach_report(
        controller=controller,
        title=title,
        aware_at=timezone.now() - aware_ago,
        description=DESCRIPTION,
        discovery=DISCOVERY,
        natures=["confidentiality"],
        **kwargs,
    )
    return breach


def notified(controller, *, aware_ago=H, filed_after=H, **kwargs) -> Breach:
    """A breach assessed (a risk) and notified ``filed_after`` its awareness: Part 2 is due 21 days later."""
    breach = report(controller, aware_ago=aware_ago, **kwargs)
    services.breach_assess(breach=breach, likelihood=2, severity=2)
    services.breach_file(breach=breach, phase="initial", filed_at=breach.aware_at + filed_after, channel="portal")
    return Breach.objects.get(pk=breach.pk)


def sent(breach) -> dict:
    return Breach.objects.get(pk=breach.pk).reminders_sent


# --- the thresholds ----------------------------------------------------------------------------------


def test_each_threshold_of_the_notification_deadline_is_mailed_once(world, dpo_mail):
    breach = report(world.a)
    due = breach.notification_due_at
    mail.outbox.clear()

    assert reminders.breach_remind(now=due - 30 * H) == {}  # more than a day left: nothing
    steps = [
        (due - 20 * H, "24h"),
        (due - 18 * H, None),  # still within 24 h: already mailed
        (due - 5 * H, "6h"),
        (due - H, None),
        (due + dt.timedelta(minutes=1), "missed"),
        (due + 5 * H, None),
        (due + 50 * H, None),  # missed is mailed once, not every beat
    ]
    for now, expected in steps:
        first = reminders.breach_remind(now=now)
        again = reminders.breach_remind(now=now)  # a second beat at the same moment
        assert first == ({"notify": {expected: [breach.pk]}} if expected else {}), now
        assert again == {}
    assert len(mail.outbox) == 3
    assert [m.subject for m in mail.outbox] == [
        "[ropa] breach deadlines: 1 within 24 hours",
        "[ropa] breach deadlines: 1 within 6 hours",
        "[ropa] breach deadlines: 1 missed",
    ]
    assert sent(breach) == {"notify": ["24h", "6h", "missed"]}


def test_at_the_deadline_itself_it_is_not_missed_yet(world, dpo_mail):
    breach = report(world.a)
    due = breach.notification_due_at
    assert reminders.breach_remind(now=due) == {"notify": {"6h": [breach.pk]}}
    assert reminders.breach_remind(now=due + dt.timedelta(seconds=1)) == {"notify": {"missed": [breach.pk]}}


def test_a_late_start_mails_the_most_urgent_reminder_only(world, dpo_mail):
    """Reported with five hours left: the 6-hour reminder, never the 24-hour one after it."""
    breach = report(world.a, aware_ago=67 * H)
    mail.outbox.clear()
    assert breach_remind_task() == {"notify": {"6h": [breach.pk]}}  # the real task, at the real now
    assert reminders.breach_remind(now=timezone.now() + H) == {}
    late = report(world.b, aware_ago=80 * H, title="Backup tape missing")
    assert reminders.breach_remind() == {"notify": {"missed": [late.pk]}}
    assert len(mail.outbox) == 2
    assert sent(breach) == {"notify": ["6h"]} and sent(late) == {"notify": ["missed"]}


def test_one_mail_lists_every_breach_due(world, dpo_mail):
    one = report(world.a, aware_ago=50 * H, title="Mailbox compromised")
    two = report(world.b, aware_ago=70 * H, title="Wrong recipient")
    three = report(world.a, aware_ago=80 * H, title="Ransomware")
    mail.outbox.clear()
    assert reminders.breach_remind() == {"notify": {"24h": [one.pk], "6h": [two.pk], "missed": [three.pk]}}
    (message,) = mail.outbox
    assert message.subject == "[ropa] breach deadlines: 1 missed, 1 within 6 hours, 1 within 24 hours"
    body = message.body
    assert body.index("Missed:") < body.index(f"#{three.pk} Ransomware (acme)")
    assert body.index("Within 6 hours:") < body.index(f"#{two.pk} Wrong recipient (globex)")
    assert body.index("Within 24 hours:") < body.index(f"#{one.pk} Mailbox compromised (acme)")


def test_nothing_for_the_notification_deadline_of_a_notified_closed_or_not_notifiable_breach(world, dpo_mail):
    filed = notified(world.a)
    closed = notified(world.a, title="Closed")
    services.breach_close(breach=closed)
    harmless = report(world.b, title="Harmless")
    services.breach_assess(breach=harmless, likelihood=1, severity=1)
    services.breach_not_notifiable(breach=harmless)
    assert {b.status for b in Breach.objects.all()} == {"notified", "closed", "not_notifiable"}
    mail.outbox.clear()
    for now in (filed.notification_due_at - 5 * H, filed.notification_due_at + 5 * H):
        assert reminders.breach_remind(now=now) == {}
    assert mail.outbox == []
    # Closed: not even Part 2.
    due = services.complement_due_at(closed)
    assert reminders.breach_remind(now=due + H) == {"complement": {"missed": [filed.pk]}}
    assert sent(closed) == {}


def test_the_part_2_deadline_is_reminded_until_the_complementary_notification(world, dpo_mail):
    breach = notified(world.a)
    due = services.complement_due_at(breach)
    (deadline,) = reminders.open_deadlines()
    assert (deadline.breach_id, deadline.kind, deadline.due_at) == (breach.pk, "complement", due)
    mail.outbox.clear()
    assert reminders.breach_remind(now=due - 25 * H) == {}
    assert reminders.breach_remind(now=due - 23 * H) == {"complement": {"24h": [breach.pk]}}
    assert reminders.breach_remind(now=due - 6 * H) == {"complement": {"6h": [breach.pk]}}
    assert reminders.breach_remind(now=due - 6 * H) == {}
    assert "complementary notification to the supervisory authority (Part 2" in mail.outbox[-1].body
    services.breach_file(breach=breach, phase="complementary", filed_at=timezone.now(), channel="portal")
    assert reminders.open_deadlines() == []
    assert reminders.breach_remind(now=due + H) == {}
    assert len(mail.outbox) == 2
    assert sent(breach) == {"complement": ["24h", "6h"]}


def test_the_part_2_deadline_missed_is_mailed_once(world, dpo_mail):
    breach = notified(world.a)
    due = services.complement_due_at(breach)
    assert reminders.breach_remind(now=due + H) == {"complement": {"missed": [breach.pk]}}
    assert reminders.breach_remind(now=due + 30 * H) == {}
    assert sent(breach) == {"complement": ["missed"]}


# --- what the mail says, and when it is not sent --------------------------------------------------------


def test_the_mail_names_the_breach_never_its_description_nor_anyone_concerned(world, dpo_mail, settings):
    settings.ROPA_BASE_URL = "https://register.example.org/"
    subject = DataSubjectFactory(controller=world.a, identifiers={"email": "jan.peeters@example.be"})
    record_register(
        subject=subject,
        activity=world.activity_a,
        data_category=world.category,
        source_system="crm",
        external_id="CRM-4711",
        payload={"name": "Jan Peeters", "national_number": "85.07.30-033.61"},
        dates={"collected_on": dt.date(2026, 1, 1)},
    )
    breach = report(world.a, aware_ago=70 * H, title="Laptop lost", reported_by="siem", external_reference="SIEM-9")
    services.breach_scope_compute(breach=breach, criteria={})
    mail.outbox.clear()
    reminders.breach_remind()
    (message,) = mail.outbox
    assert message.to == dpo_mail
    body = message.body
    link = f"https://register.example.org{reverse('admin:breaches_breach_change', args=[breach.pk])}"
    assert f"#{breach.pk} Laptop lost (acme): notify the supervisory authority (Art. 33(1)), due " in body
    assert link in body and " left: " in body
    changelist = reverse("admin:breaches_breach_changelist")
    assert f"{changelist}?deadline=overdue" in body and f"{changelist}?deadline=due24" in body
    text = message.subject + body
    for secret in ("Peeters", "Jan", "train", "neighbour", "jan.peeters@example.be", "CRM-4711", "85.07.30"):
        assert secret not in text, secret
    assert subject.key not in text


def test_the_mail_says_how_long_overdue(world, dpo_mail):
    breach = report(world.a)
    reminders.breach_remind(now=breach.notification_due_at + 26 * H + dt.timedelta(minutes=5))
    assert "overdue by 1 d 2 h:" in mail.outbox[-1].body
    assert reminders.duration(dt.timedelta(minutes=-40)) == "40 min"
    assert reminders.duration(dt.timedelta(hours=5, minutes=20)) == "5 h 20 min"


def test_without_a_dpo_address_nothing_is_sent_nor_recorded(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ROPA_DPO_EMAILS = []
    breach = report(world.a, aware_ago=80 * H)
    mail.outbox.clear()
    assert reminders.breach_remind() == {}
    assert mail.outbox == [] and sent(breach) == {}


def test_a_failing_mail_server_records_nothing_and_the_next_beat_retries(world, dpo_mail, monkeypatch):
    breach = report(world.a, aware_ago=80 * H)

    def refuse(**kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(reminders, "dpo_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        reminders.breach_remind()
    assert sent(breach) == {}
    monkeypatch.undo()
    assert reminders.breach_remind() == {"notify": {"missed": [breach.pk]}}


@pytest.mark.postgres(reason="two beats at once need PostgreSQL's row locks (SQLite serialises writers)")
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_mail_a_reminder_once(world, dpo_mail, monkeypatch):
    breach = report(world.a, aware_ago=60 * H)
    mail.outbox.clear()
    mailing = threading.Event()
    real = reminders._mail

    def slow(found, now):
        mailing.set()
        time.sleep(0.5)  # the first beat holds the row lock while it mails
        real(found, now)

    monkeypatch.setattr(reminders, "_mail", slow)
    results = []

    def beat():
        try:
            results.append(reminders.breach_remind())
        finally:
            connection.close()

    first = threading.Thread(target=beat)
    first.start()
    assert mailing.wait(10)
    second = threading.Thread(target=beat)
    second.start()
    first.join(10)
    second.join(10)
    assert sorted(results, key=len) == [{}, {"notify": {"24h": [breach.pk]}}]
    assert len(mail.outbox) == 1
    assert sent(breach) == {"notify": ["24h"]}


# --- the beat entry ---------------------------------------------------------------------------------


def test_migrate_creates_the_reminder_beat_entry_every_15_minutes(settings):
    entry = PeriodicTask.objects.get(name=BEAT_ENTRY_NAME)
    assert entry.task == breach_remind_task.name == "breaches.deadlines_remind" and entry.enabled
    cron = entry.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "*/15",
        "*",
        "*",
        "*",
        "*",
    )
    assert entry.expire_seconds == settings.ROPA_BREACH_REMINDER_EXPIRES == 600
    settings.ROPA_BREACH_REMINDER_CRON = "*/5 * * * *"
    assert ensure_beat_entry().crontab.minute == "*/5"
    assert PeriodicTask.objects.filter(task="breaches.deadlines_remind").count() == 1


# --- the dashboard and the list's filter ----------------------------------------------------------------


@pytest.fixture
def breaches(world):
    """acme: one due in 10 hours, one overdue, one with Part 2 due in about 5 hours, one closed; globex: one
    due in two days."""
    return {
        "soon": report(world.a, aware_ago=62 * H, title="Soon"),
        "overdue": report(world.a, aware_ago=80 * H, title="Overdue"),
        "part2": notified(world.a, aware_ago=21 * 24 * H, filed_after=5 * H, title="Part 2 due"),
        "closed": _closed(world.a),
        "later": report(world.b, aware_ago=24 * H, title="Later"),
    }


def _closed(controller):
    breach = notified(controller, title="Closed", aware_ago=80 * H, filed_after=H)
    return services.breach_close(breach=breach)


def _with_deadline_filter(monkeypatch):
    """The breach list with the deadline filter, as the lead wires it into ``BreachAdmin.list_filter``."""
    model_admin = admin.site._registry[Breach]
    if BreachDeadlineFilter not in model_admin.list_filter:
        monkeypatch.setattr(model_admin, "list_filter", (*model_admin.list_filter, BreachDeadlineFilter))
    return model_admin


def _row(board, label):
    (cells,) = [cells for name, cells in board.rows if str(name) == label]
    return dict(zip([c.pk for c in board.controllers], cells, strict=True))


def test_the_dashboard_counts_breaches_open_due_within_24_hours_and_overdue(
    dpo_client, dpo, world, breaches, monkeypatch
):
    assert 3 * H < services.complement_due_at(breaches["part2"]) - timezone.now() < 7 * H  # a summer-time change: 1 h
    board = dashboard(user=dpo)
    opened = _row(board, "breaches open")
    soon = _row(board, "breaches with a deadline within 24 hours")
    overdue = _row(board, "breaches overdue")
    assert {pk: c.value for pk, c in opened.items()} == {world.a.pk: 3, world.b.pk: 1}
    assert {pk: c.value for pk, c in soon.items()} == {world.a.pk: 2, world.b.pk: 0}
    assert {pk: c.value for pk, c in overdue.items()} == {world.a.pk: 1, world.b.pk: 0}
    assert (soon[world.a.pk].tone, soon[world.b.pk].tone) == ("warn", "")
    assert (overdue[world.a.pk].tone, overdue[world.b.pk].tone) == ("alert", "ok")
    changelist = reverse("admin:breaches_breach_changelist")
    assert opened[world.b.pk].url == f"{changelist}?controller__id__exact={world.b.pk}&deadline=open"
    assert overdue[world.a.pk].url == f"{changelist}?controller__id__exact={world.a.pk}&deadline=overdue"
    assert soon[world.a.pk].url == f"{changelist}?controller__id__exact={world.a.pk}&deadline=due24"

    _with_deadline_filter(monkeypatch)
    for row in (opened, soon, overdue):
        for cell in row.values():
            response = dpo_client.get(cell.url)
            assert response.status_code == 200, cell.url
            assert response.context["cl"].result_count == cell.value, cell.url
    page = dpo_client.get(reverse("admin:index")).content.decode()
    for label in ("Breaches open", "Breaches with a deadline within 24 hours", "Breaches overdue"):
        assert f'<th scope="row" class="figure">{label}</th>' in page
    assert f'href="{changelist}?controller__id__exact={world.a.pk}&amp;deadline=overdue"' in page


def test_the_deadline_filter_selects_the_right_breaches(dpo, world, breaches, monkeypatch):
    model_admin = _with_deadline_filter(monkeypatch)
    request = RequestFactory().get("/")
    request.user = dpo

    def chosen(value):
        found = BreachDeadlineFilter(request, {"deadline": [value]}, Breach, model_admin).queryset(
            request, Breach.objects.all()
        )
        return {b.title for b in found}

    assert chosen("open") == {"Soon", "Overdue", "Part 2 due", "Later"}
    assert chosen("due24") == {"Soon", "Part 2 due"}
    assert chosen("overdue") == {"Overdue"}
    assert chosen("nonsense") == {"Soon", "Overdue", "Part 2 due", "Closed", "Later"}
    deadline_filter = BreachDeadlineFilter(request, {}, Breach, model_admin)
    assert [value for value, _label in deadline_filter.lookups(request, model_admin)] == [
        "open",
        "due24",
        "overdue",
    ]
    # The same selector at another moment: in two days every open deadline has passed.
    later = timezone.now() + 49 * H
    assert {b.title for b in reminders.by_deadline(Breach.objects.all(), "overdue", later)} == {
        "Soon",
        "Overdue",
        "Part 2 due",
        "Later",
    }
    assert {b.title for b in reminders.by_deadline(Breach.objects.all(), "due24", later)} == set()
    assert {b.status for b in Breach.objects.filter(title="Closed")} == {BreachStatus.CLOSED}

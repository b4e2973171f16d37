"""The access/portability package (open the zip, parse JSON and CSV), and the reminder job selecting
exactly the requests due within 7 days and the overdue ones (the real task, mail in the locmem outbox)."""

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from retention import requests as request_execution
from subjects import services
from subjects.beat import BEAT_ENTRY_NAME
from subjects.models import DataSubjectRequest
from subjects.selectors import PACKAGE_FORMAT, subject_package_zip
from subjects.tasks import requests_remind_task
from tests.factories import DataSubjectFactory, RecipientFactory

pytestmark = pytest.mark.django_db


def read_csv(archive, name):
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_package_holds_register_context_records_and_consents(people):
    people.newsletter.recipients.add(RecipientFactory(controller=people.controller, name_en="Mailer", country="US"))
    services.consent_record(
        subject=people.person,
        purpose=people.newsletter_purpose,
        given_at=timezone.now(),
        source="web form",
        evidence="Yes, send me the newsletter",
        evidence_version="v2",
    )
    other = DataSubjectFactory(controller=people.controller)
    people.record(people.service, people.contact, "TCK-OTHER", subject=other, last_contact_on=dt.date(2025, 1, 1))

    archive = zipfile.ZipFile(io.BytesIO(subject_package_zip(people.person)))
    assert sorted(archive.namelist()) == [
        "activities.csv",
        "answer.html",
        "consents.csv",
        "package.json",
        "records.csv",
    ]
    package = json.loads(archive.read("package.json"))
    assert package["format"] == PACKAGE_FORMAT
    assert package["subject"] == {
        "key": "p-1",
        "identifiers": {"email": "an@example.be"},
        "registered_at": package["subject"]["registered_at"],
    }
    assert {r["external_id"] for r in package["records"]} == {"INV-1", "NL-1", "TCK-1"}  # not the other person's
    invoice = next(r for r in package["records"] if r["external_id"] == "INV-1")
    assert invoice["payload"] == {"name": "An Peeters", "ref": "INV-1"}
    assert invoice["dates"]["last_invoice_financial_year_end"] == "2024-12-31"
    activities = {a["reference"]: a for a in package["activities"]}
    assert set(activities) == {"BIL-01", "MKT-01", "SRV-01"}
    assert activities["MKT-01"]["purposes"][0]["legal_basis"] == "consent"
    assert activities["MKT-01"]["recipients"][0]["name"] == "Mailer"
    assert any("7" in sentence for sentence in activities["BIL-01"]["retention"])
    assert package["consents"][0]["evidence_version"] == "v2"

    records = read_csv(archive, "records.csv")
    assert {row["external_id"] for row in records} == {"INV-1", "NL-1", "TCK-1"}
    # Cells hold one value per line, a payload one "name: value" per line: never JSON.
    assert next(r for r in records if r["external_id"] == "NL-1")["payload"] == "name: An Peeters\nref: NL-1"
    rows = {row["reference"]: row for row in read_csv(archive, "activities.csv")}
    assert rows["BIL-01"]["legal_bases"] == "legal_obligation"
    assert not any(
        cell.lstrip().startswith(("[", "{")) for row in records + list(rows.values()) for cell in row.values()
    )
    assert read_csv(archive, "consents.csv")[0]["source"] == "web form"


ARTICLE_15_ITEMS = {  # each item of Art. 15 by its reference, as the requester's language writes it
    "en": [f"Art. 15({n})" for n in ("1)(a", "1)(b", "1)(c", "1)(d", "1)(e", "1)(f", "1)(g", "1)(h", "2", "3")],
    "nl": [f"art. 15.{n} AVG" for n in ("1.a", "1.b", "1.c", "1.d", "1.e", "1.f", "1.g", "1.h", "2", "3")],
    "fr": [f"art. 15.{n} RGPD" for n in ("1.a", "1.b", "1.c", "1.d", "1.e", "1.f", "1.g", "1.h", "2", "3")],
}
RIGHTS = {"en": "Your rights", "nl": "Uw rechten", "fr": "Vos droits"}


def test_the_access_answer_holds_every_item_of_article_15_in_the_requesters_language(people):
    people.newsletter.recipients.add(
        RecipientFactory(
            controller=people.controller, name_en="Mailer", country="US", inside_eea=False, safeguard="scc"
        )
    )
    people.billing.data_source = "Kruispuntbank van Ondernemingen"
    people.billing.save()
    people.service.profiling = True
    people.service.save()
    people.controller.supervisory_authority = "Gegevensbeschermingsautoriteit"
    people.controller.save()
    for language in ("en", "nl", "fr"):
        archive = zipfile.ZipFile(io.BytesIO(subject_package_zip(people.person, language=language)))
        html = archive.read("answer.html").decode()
        assert f'<html lang="{language}">' in html and RIGHTS[language] in html
        for item in ARTICLE_15_ITEMS[language]:
            assert item in html, (language, item)
        package = json.loads(archive.read("package.json"))
        answer = package["answer"]
        assert package["language"] == language
        assert {p["legal_basis"] for p in answer["purposes"]} and answer["data_categories"]
        assert [t["safeguard"] for t in answer["transfers"]] == ["scc"] and "US" in html
        retention = {item["data_category"]: item["retention"] for item in answer["retention"]}
        assert set(retention) == {"invoices", "contact"} and retention["invoices"]
        assert "Gegevensbeschermingsautoriteit" in answer["complaint"]
        assert [s["activity"] for s in answer["sources"]] == [package["activities"][0]["name"]]
        source = answer["sources"][0]["source"]
        assert source == (
            "Kruispuntbank van Ondernemingen" if language == "nl" else "[nl] Kruispuntbank van Ondernemingen"
        )
        assert [a["profiling"] for a in answer["automated_decisions"]] == [True]
        assert "An Peeters" in html  # the copy of the data (15(3))


def file(people, *, received_on, status=None):
    request = services.dsr_receive(
        controller=people.controller, subject=people.person, type="access", received_on=received_on
    )
    if status == "paused":
        services.dsr_identity_request(request=request, actor=None)
    elif status == "completed":
        services.dsr_identity_verify(request=request, actor=None)
        request_execution.dsr_complete(request=request, actor=None)
    return DataSubjectRequest.objects.get(pk=request.pk)


def test_queryset_and_reminder_select_exactly_due_and_overdue(people, dpo_mail):
    today = timezone.localdate()
    back = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    # Due dates are received + 1 month: pick receipts so the deadlines fall where wanted.
    overdue = file(people, received_on=back(40))
    due_today = next(
        file(people, received_on=day)
        for day in [back(n) for n in range(25, 35)]
        if services.rules.request_due_on(received_on=day) == today
    )
    in_seven = next(
        file(people, received_on=day)
        for day in [back(n) for n in range(18, 28)]
        if services.rules.request_due_on(received_on=day) == today + dt.timedelta(days=7)
    )
    later = file(people, received_on=back(10))
    paused = file(people, received_on=back(60), status="paused")
    closed = file(people, received_on=back(60), status="completed")
    assert later.due_on > today + dt.timedelta(days=7)

    assert set(DataSubjectRequest.objects.overdue()) == {overdue}
    assert set(DataSubjectRequest.objects.due_within(7)) == {due_today, in_seven}
    assert set(DataSubjectRequest.objects.open()) == {overdue, due_today, in_seven, later, paused}
    assert closed not in DataSubjectRequest.objects.open()

    mail.outbox.clear()
    reported = requests_remind_task()
    assert reported == {"overdue": [overdue.pk], "due": [due_today.pk, in_seven.pk]}  # by due date
    (message,) = mail.outbox
    assert message.to == dpo_mail
    assert "1 overdue, 2 due within 7 days" in message.subject
    body = message.body
    assert f"#{overdue.pk} access" in body and f"#{in_seven.pk} access" in body
    assert f"#{later.pk} " not in body and f"#{paused.pk} " not in body and f"#{closed.pk} " not in body
    assert "?deadline=overdue" in body and "?deadline=due7" in body
    assert "p-1" not in body and "an@example.be" not in body  # who asked never goes out

    # Asked for a shorter horizon, the mail says so, and the same selector answers the admin and the API.
    mail.outbox.clear()
    assert services.dsr_remind(days=0) == {"overdue": [overdue.pk], "due": [due_today.pk]}
    (short,) = mail.outbox
    assert "1 overdue, 1 due within 0 days" in short.subject and "Due within 0 days:" in short.body
    assert set(DataSubjectRequest.objects.by_deadline("due7")) == {due_today, in_seven}
    assert set(DataSubjectRequest.objects.by_deadline("paused")) == {paused}


def test_reminder_sends_nothing_when_nothing_is_due(people, dpo_mail):
    file(people, received_on=timezone.localdate())
    mail.outbox.clear()
    assert requests_remind_task() == {"overdue": [], "due": []}
    assert mail.outbox == []


def test_migrate_creates_the_reminder_beat_entry_daily_at_seven(settings):
    entry = PeriodicTask.objects.get(name=BEAT_ENTRY_NAME)
    assert entry.task == "subjects.requests_remind" and entry.enabled
    cron = entry.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "7",
        "*",
        "*",
        "*",
    )
    assert requests_remind_task.name == "subjects.requests_remind"

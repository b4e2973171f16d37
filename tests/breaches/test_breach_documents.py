"""The breach register's documents: the register for auditors (Art. 33(5)) as CSV, XLSX and PDF with the same
headings and rows, a breach's summary for the supervisory authority in nl/fr/en, and never a data subject's
identifier in any of them; the admin's export and summary pages once the mixin is wired."""

import codecs
import csv
import datetime as dt
import io
import shutil
import subprocess

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from openpyxl import load_workbook

from retention.breaches import documents, services, summary
from retention.breaches.models import Breach
from retention.services import record_register
from ropa.access.models import ControllerAccess
from ropa.kernel.csv import csv_cell
from tests.auth import login_verified
from tests.factories import DataSubjectFactory

pytestmark = pytest.mark.django_db

IDENTIFIER = "jan@example.be"
PAYLOAD_NAME = "Jan Peeters"
DUTCH_HEADINGS = [
    "Contactgegevens",
    "Tijdlijn",
    "Aard van de inbreuk",
    "Getroffen gegevens en betrokkenen",
    "Maatregelen vóór de inbreuk",
    "Waarschijnlijke gevolgen",
    "Genomen of voorgestelde maatregelen",
    "Opvolging",
]


def _record(world, subject, category, external_id):
    return record_register(
        subject=subject,
        activity=world.activity_a,
        data_category=category,
        source_system="crm",
        external_id=external_id,
        payload={"name": PAYLOAD_NAME},
        dates={"collected_on": dt.date(2026, 1, 1)},
    )


@pytest.fixture
def breach_register(world, dpo):
    """Three breaches: one taken through every step up to informing the people (acme), one just reported
    with a title a spreadsheet would run (acme), one not notifiable (globex)."""
    acme = world.a
    acme.address, acme.dpo_name, acme.dpo_email = "Kerkstraat 1\n2000 Antwerpen", "An Claes", "dpo@acme.be"
    acme.dpo_phone = "+32 3 123 45 67"
    acme.save()
    dpo.first_name, dpo.last_name = "Dora", "Wouters"
    dpo.save()
    world.activity_a.recipients.add(world.recipient_a)  # in the United States
    world.activity_a.data_categories.add(world.special)
    jan = DataSubjectFactory(controller=acme, identifiers={"email": IDENTIFIER})
    other = DataSubjectFactory(controller=acme, identifiers={"email": "piet@example.be"})
    _record(world, jan, world.category, "x-1")
    _record(world, jan, world.special, "x-2")
    _record(world, other, world.category, "x-3")

    now = timezone.now()
    full, _created = services.breach_report(
        controller=acme,
        title="Mailbox compromised",
        aware_at=now - dt.timedelta(hours=80),
        occurred_from=now - dt.timedelta(hours=90),
        occurred_until=now - dt.timedelta(hours=85),
        natures=["confidentiality", "availability"],
        description="A phishing mail opened the shared mailbox.\nThe attacker read the invoices.",
        owner=dpo,
    )
    scope = services.breach_scope_compute(breach=full, criteria={"source_systems": ["crm"]})
    services.breach_scope_correct(scope=scope, note="Forwarded mails are not counted", subjects_min=2, subjects_max=5)
    services.breach_assess(
        breach=full,
        likelihood=3,
        severity=3,
        consequences="Customers may receive targeted phishing.",
        mitigations="Passwords reset; forwarding rules removed.",
        pseudonymised=True,
        actor=dpo,
    )
    services.breach_file(
        breach=full,
        phase="initial",
        filed_at=now - dt.timedelta(hours=2),
        channel="APD/GBA portal",
        reference="DBN-2026-001",
        late_reason="The scope took two days to establish.",
    )
    services.breach_hold_evidence(breach=full, actor=dpo)
    communication = services.breach_communication_save(breach=full, language="nl", text="Beste klant, ...")
    services.breach_subjects_informed(
        breach=full, communication=communication, method="email", sent_at=now - dt.timedelta(hours=1)
    )
    formula, _created = services.breach_report(
        controller=acme, title="=1+1 laptop lost", aware_at=now - dt.timedelta(hours=5), natures=["integrity"]
    )
    minor, _created = services.breach_report(
        controller=world.b, title="Letter sent to the wrong address", aware_at=now - dt.timedelta(days=3)
    )
    services.breach_assess(breach=minor, likelihood=1, severity=1)
    services.breach_not_notifiable(breach=minor)
    for breach in (full, formula, minor):
        breach.refresh_from_db()  # the services wrote through locked copies
    return {"full": full, "formula": formula, "minor": minor}


def _csv_rows(breaches, language, delimiter=","):
    out = io.BytesIO()
    assert documents.write_csv(breaches, out, language, delimiter=delimiter) == len(breaches)
    data = out.getvalue()
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def _xlsx_sheet(breaches, language):
    out = io.BytesIO()
    assert documents.write_xlsx(breaches, out, language) == len(breaches)
    out.seek(0)
    return load_workbook(out).active


def _values(sheet):
    return [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]


def _pdf_text(breaches, language, tmp_path):
    path = tmp_path / f"breaches-{language}.pdf"
    with path.open("wb") as out:
        assert documents.write_pdf(breaches, out, language) == len(breaches)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_the_csv_and_the_xlsx_have_the_same_headings_and_rows(breach_register):
    breaches = list(Breach.objects.order_by("pk"))
    rows = _csv_rows(breaches, "nl")
    sheet = _xlsx_sheet(breaches, "nl")
    # The XLSX holds each text as text; the CSV the same text, defused where a spreadsheet would run it.
    assert rows == [[csv_cell(value) for value in row] for row in _values(sheet)]
    assert rows == _csv_rows(breaches, "nl", delimiter=";")
    headings = rows[0]
    assert headings[:3] == ["Nr.", "Verwerkingsverantwoordelijke", "Titel"]
    assert "Feiten (art. 33.5 AVG)" in headings and "Gevolgen" in headings
    assert len(headings) == len(documents.BREACH_COLUMNS) and len(rows) == 4
    by_id = {int(row[0]): dict(zip(headings, row, strict=True)) for row in rows[1:]}

    full = by_id[breach_register["full"].pk]
    assert full["Titel"] == "Mailbox compromised"
    assert full["Getroffen records"] == "3" and "2-5" in full["Getroffen betrokkenen"]
    assert full["Feiten (art. 33.5 AVG)"].startswith("A phishing mail") and "\n" in full["Feiten (art. 33.5 AVG)"]
    assert full["Gevolgen"] == "Customers may receive targeted phishing."
    assert full["Genomen corrigerende maatregelen"] == "Passwords reset; forwarding rules removed."
    assert full["Referentie van de autoriteit"] == "DBN-2026-001" and full["Laattijdig gemeld"] == "Ja"
    assert full["Bijzondere categorieën (art. 9, 10 AVG)"]  # the health data
    with translation.override("nl"):
        assert full["Status"] == str(breach_register["full"].get_status_display())
        assert gettext("confidentiality") in full["Aard"] and gettext("availability") in full["Aard"]
    assert "e-mail" in full["Betrokkenen (art. 34 AVG)"]

    formula = by_id[breach_register["formula"].pk]
    assert formula["Titel"] == "'=1+1 laptop lost"  # defused in the CSV
    assert formula["Getroffen records"] == "" and formula["Gemeld aan de autoriteit op"] == ""
    title_cell = sheet.cell(row=[b.pk for b in breaches].index(breach_register["formula"].pk) + 2, column=3)
    assert (title_cell.value, title_cell.data_type) == ("=1+1 laptop lost", "s")  # a string, not a formula
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref


def test_the_register_headings_exist_in_every_language(breach_register):
    for language in ("en", "nl", "fr"):
        headings = _csv_rows([breach_register["full"]], language)[0]
        assert len(set(headings)) == len(documents.BREACH_COLUMNS)
    assert _csv_rows([breach_register["full"]], "fr")[0][1] == "Responsable du traitement"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_the_pdf_holds_every_breach_and_wraps_a_long_text_over_pages(breach_register, tmp_path):
    breaches = list(Breach.objects.all())
    text = " ".join(_pdf_text(breaches, "nl", tmp_path).split())
    for breach in breaches:
        assert breach.title in text
    assert "Register van inbreuken in verband met persoonsgegevens" in text and "Pagina 1 van" in text
    assert "DBN-2026-001" in text and "A phishing mail opened the shared mailbox." in text

    # A description longer than a page, with a word wider than its column: split over pages, nothing lost.
    long = breach_register["formula"]
    long.description = " ".join(f"word{n}" for n in range(1500)) + " " + "x" * 300 + " the-end"
    long.save()
    text = _pdf_text([long], "fr", tmp_path)
    assert "\f" in text.rstrip("\f")  # more than one page
    flat = "".join(text.split())
    assert "word0" in flat and "word1499" in flat and flat.count("x") == 300 and "the-end" in flat
    assert "Registre des violations" in text


def test_an_empty_register_is_a_heading_row_and_a_sentence(db, tmp_path):
    assert _csv_rows([], "en") == [[documents.say(c.heading, "en") for c in documents.BREACH_COLUMNS]]
    assert len(_values(_xlsx_sheet([], "en"))) == 1
    if shutil.which("pdftotext"):
        assert "No breach recorded." in _pdf_text([], "en", tmp_path)


def test_the_summary_follows_the_authority_form_with_the_scope_counts(breach_register):
    breach = breach_register["full"]
    sections = summary.authority_summary(breach, "nl")
    assert len(sections) == 8
    lines = {heading: "\n".join(body) for heading, body in sections}
    contact, timeline, nature, data, prior, consequences, measures, follow_up = lines.values()
    assert "An Claes" in contact and "dpo@acme.be" in contact and "Dora Wouters" in contact
    assert "Kerkstraat 1, 2000 Antwerpen" in contact
    assert "DBN-2026-001" in timeline and "The scope took two days to establish." in timeline
    assert "A phishing mail opened the shared mailbox." in nature
    with translation.override("nl"):
        two_records = ngettext("%(n)d record", "%(n)d records", 2) % {"n": 2}
        two_people = ngettext("%(n)d person", "%(n)d people", 2) % {"n": 2}
        one_record = ngettext("%(n)d record", "%(n)d records", 1) % {"n": 1}
        assert gettext("special category") in data  # the health data is marked
        assert gettext("yes") in prior  # pseudonymised
    assert f"{two_records}, {two_people}" in data and f"{one_record}, " in data
    assert "2-5" in data and "Forwarded mails are not counted" in data
    assert "Verenigde Staten" in data  # the mailer's country, in Dutch
    assert "Customers may receive targeted phishing." in consequences
    assert measures == "Passwords reset; forwarding rules removed."
    assert "A-01" in follow_up and "e-mail" in follow_up  # the hold on the activity; told by e-mail

    text = summary.authority_summary_text(breach, "nl")
    assert text.startswith(f"#{breach.pk} Mailbox compromised") and "\n1. " in text and "\n8. " in text
    for heading, body in sections:
        assert heading in text and all(line in text for line in body)


def test_a_breach_just_reported_has_a_summary_that_says_what_is_missing(breach_register):
    text = summary.authority_summary_text(breach_register["formula"], "en")
    assert "The scope has not been computed yet." in text and "Not assessed yet." in text
    assert "Not notified to the supervisory authority yet." in text and "No legal hold placed." in text
    minor = summary.authority_summary_text(breach_register["minor"], "en")
    assert "finds no risk" in minor and "the risk is not high" in minor


def test_the_summary_in_dutch_and_french_has_the_forms_headings(breach_register):
    with translation.override("nl"):
        if gettext("Contact details") == "Contact details":
            pytest.skip("locale/nl lacks the breach documents' strings until they are merged and compiled")
    headings = [heading for heading, _lines in summary.authority_summary(breach_register["full"], "nl")]
    assert headings == DUTCH_HEADINGS
    text = summary.authority_summary_text(breach_register["full"], "nl")
    assert "melding aan de toezichthoudende autoriteit" in text and "Juridische blokkering op A-01" in text
    french = summary.authority_summary_text(breach_register["full"], "fr")
    assert "Coordonnées" in french and "Chronologie" in french and "autorité de contrôle" in french


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_no_data_subject_identifier_is_in_any_document(breach_register, tmp_path):
    breaches = list(Breach.objects.all())
    texts = [
        "\n".join("\t".join(row) for row in _csv_rows(breaches, "nl")),
        "\n".join("\t".join(row) for row in _values(_xlsx_sheet(breaches, "fr"))),
        _pdf_text(breaches, "en", tmp_path),
    ]
    for language in ("nl", "fr", "en"):
        for breach in breaches:
            texts.append(summary.authority_summary_text(breach, language))
            texts.append(repr(summary.authority_summary(breach, language)))
    for text in texts:
        assert IDENTIFIER not in text and "piet@example.be" not in text and PAYLOAD_NAME not in text


# --- The admin's pages: they run once BreachDocumentsMixin is wired into BreachAdmin -------------------------


def _admin_url(name, *args):
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        pytest.skip(f"admin:{name} is not wired yet (BreachDocumentsMixin in BreachAdmin)")


def test_the_admin_exports_the_register_in_each_format(dpo_client, breach_register):
    url = _admin_url("breaches_breach_export")
    for fmt, content_type in (("xlsx", "spreadsheetml"), ("csv", "text/csv"), ("pdf", "application/pdf")):
        response = dpo_client.get(url, {"format": fmt, "lang": "nl", "delimiter": ";"})
        assert response.status_code == 200 and content_type in response["Content-Type"], fmt
        assert f'-nl.{fmt}"' in response["Content-Disposition"]
        body = b"".join(response.streaming_content)
        assert IDENTIFIER.encode() not in body
    csv_body = b"".join(dpo_client.get(url, {"format": "csv", "delimiter": "tab"}).streaming_content)
    assert b"Mailbox compromised" in csv_body and b"\t" in csv_body
    assert dpo_client.get(url, {"format": "docx"}).status_code == 400
    assert dpo_client.get(url, {"format": "csv", "delimiter": "|"}).status_code == 400


def test_the_admin_shows_the_summary_and_gives_it_as_text(dpo_client, breach_register):
    breach = breach_register["full"]
    url = _admin_url("breaches_breach_summary", breach.pk)
    page = dpo_client.get(url, {"lang": "nl"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "download=txt" in html and "DBN-2026-001" in html and "2-5" in html and IDENTIFIER not in html
    download = dpo_client.get(url, {"lang": "nl", "download": "txt"})
    assert download["Content-Type"].startswith("text/plain")
    assert f'filename="breach-{breach.pk}-nl.txt"' in download["Content-Disposition"]
    assert download.content.decode() == summary.authority_summary_text(breach, "nl")


def test_a_user_limited_to_a_controller_exports_and_summarises_only_its_breaches(
    client, django_user_model, breach_register, world
):
    export = _admin_url("breaches_breach_export")
    user = django_user_model.objects.create_superuser("globex-dpo", "g@example.org", "a-long-test-password")
    ControllerAccess.objects.create(user=user).controllers.set([world.b])
    login_verified(client, user)
    body = b"".join(client.get(export, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "Letter sent to the wrong address" in body and "Mailbox compromised" not in body
    hidden = _admin_url("breaches_breach_summary", breach_register["full"].pk)
    assert client.get(hidden).status_code == 404
    assert client.get(_admin_url("breaches_breach_summary", breach_register["minor"].pk)).status_code == 200

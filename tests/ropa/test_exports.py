"""Exports of the five shipped statements, opened with real readers and checked against the register.

The statements are loaded once per test (about two seconds); each test then asserts many things about
one format rather than one thing per parametrised case.
"""

import csv
import io
import json
import re
import shutil
import subprocess

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from processing.models import Controller, ProcessingActivity
from retention.models import RetentionRule
from ropa.register import ExportError, export_register, register_document
from ropa.register.columns import REGISTER_COLUMNS
from ropa.register.completeness import activity_gaps, controller_gaps
from ropa.register.snapshot import register_snapshot
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    DataSubjectCategoryFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
    RetentionRuleFactory,
    SecurityMeasureFactory,
)

pytestmark = pytest.mark.django_db

MANDATORY = [c.key for c in REGISTER_COLUMNS if c.mandatory]
RED = "FFC00000"


@pytest.fixture
def statements():
    call_command("load_statements", verbosity=0, stdout=io.StringIO())
    return list(ProcessingActivity.objects.select_related("controller").order_by("controller__name", "reference"))


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _sentences(activity, language):
    rules = RetentionRule.objects.filter(activity=activity).order_by("position", "id")
    return [rule.sentence(language) for rule in rules]


def test_xlsx_in_the_belgian_dpa_layout_holds_every_activity(statements):
    export = export_register(fmt="xlsx", lang="nl")
    assert export.filename.endswith(".xlsx") and export.content_type.startswith("application/vnd.openxmlformats")
    assert export.activities == len(statements) and export.controllers == 6
    workbook = openpyxl.load_workbook(io.BytesIO(export.content))

    assert workbook.sheetnames == [
        "Verwerkingsverantwoordelijke",
        "Register",
        "Volledigheid",
        "Bewijs bewaring",
        "Lijsten",
    ]

    # The controller sheet: one column per controller, the fields down the side, mandatory ones red.
    ident = workbook["Verwerkingsverantwoordelijke"]
    labels = {row[0].value: row for row in ident.iter_rows(min_row=6) if row[0].value}
    names = [cell.value for cell in labels["Naam"][1:]]
    assert names == sorted(Controller.objects.values_list("name", flat=True), key=str.casefold)
    voiceking = names.index("VoiceKing CVBA") + 1
    assert labels["KBO-nummer"][voiceking].value == "BE0653.989.638"
    assert labels["Algemeen telefoonnummer"][voiceking].value == "0800 82 027"
    assert labels["Algemeen e-mailadres"][voiceking].value == "info@voiceking.be"
    assert labels["Naam"][0].fill.fgColor.rgb == RED
    assert labels["Functionaris voor gegevensbescherming"][0].fill.fgColor.rgb == RED
    assert labels["DPO is personeelslid"][0].fill.fgColor.rgb != RED

    # The register: groups, headings, one row per activity.
    sheet = workbook["Register"]
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:{openpyxl.utils.get_column_letter(len(REGISTER_COLUMNS))}{len(statements) + 2}"
    assert sheet["A1"].value == "Verwerkingsverantwoordelijke"
    groups = [cell.value for cell in sheet[1] if cell.value]
    assert groups[:6] == [
        "Verwerkingsverantwoordelijke",
        "Bedrijfsproces",
        "Verwerking",
        "Gegevens en betrokkenen",
        "Ontvangers",
        "Doorgifte naar derde landen",
    ]
    headings = [cell.value for cell in sheet[2]]
    assert headings[:5] == [
        "Verwerkingsverantwoordelijke",
        "Naam bedrijfsproces",
        "Eigenaar van het proces",
        "Nummer",
        "Verwerking",
    ]
    assert "Beoogde termijnen voor het wissen" in headings and "Einddatum verwerking" in headings
    for index, column in enumerate(REGISTER_COLUMNS):
        cell = sheet.cell(row=2, column=index + 1)
        assert (cell.fill.fgColor.rgb == RED) is column.mandatory, column.key
        assert cell.alignment.wrap_text
        assert sheet.column_dimensions[cell.column_letter].width >= 10
    assert {c.key for c in REGISTER_COLUMNS if c.mandatory} == {
        "purposes",
        "gdpr_data_categories",
        "data_subjects",
        "recipients",
        "third_countries",
        "safeguards",
        "retention",
        "security_measures",
    }

    column = {c.key: i for i, c in enumerate(REGISTER_COLUMNS)}
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[column["controller"]], r[column["reference"]]) for r in rows] == [
        (a.controller.name, a.reference)
        for a in sorted(statements, key=lambda a: (a.controller.name.casefold(), a.reference))
    ]
    by_reference = {(r[column["controller"]], r[column["reference"]]): r for r in rows}
    for activity in statements:
        row = by_reference[activity.controller.name, activity.reference]
        assert row[column["name"]] == activity.name  # Dutch: the language of the statements
        retention = (row[column["retention"]] or "").split("\n")
        sentences = _sentences(activity, "nl")
        assert len(retention) == len(sentences) or not sentences
        for line, sentence in zip(retention, sentences, strict=False):
            assert sentence in line, (activity.reference, sentence)
        purposes = list(activity.purposes.order_by("position", "id"))
        assert purposes and all(p.description in row[column["purposes"]] for p in purposes)
        assert row[column["status"]] in ("Actief", "Beëindigd")
    cell = sheet.cell(row=3, column=column["purposes"] + 1)
    assert cell.alignment.wrap_text and cell.alignment.vertical == "top"

    # Completeness: first the controllers' own identification (Art. 30(1)(a)), then one row per activity,
    # the same verdict as the rules.
    rows = [[c.value for c in row] for row in workbook["Volledigheid"].iter_rows(min_row=2)]
    snapshot = register_snapshot()
    controllers, completeness = rows[: len(snapshot.controllers)], rows[len(snapshot.controllers) :]
    assert len(completeness) == len(statements)
    for row, controller in zip(controllers, snapshot.controllers, strict=True):
        identification = "Identificatie van de verwerkingsverantwoordelijke (art. 30.1.a)"
        assert row[:4] == [controller.name, None, identification, None]
        expected = [gap.text("nl") for gap in controller_gaps(controller)] or ["Volledig"]
        assert row[4].split("\n") == expected
    # Four of the five statements name no DPO and say nothing of why none is needed: a gap, not "complete".
    assert sum("Geen functionaris voor gegevensbescherming" in row[4] for row in controllers) == 4
    gaps = {
        (entry.controller.name, entry.activity.reference): activity_gaps(entry, "nl")
        for controller in snapshot.controllers
        for entry in snapshot.activities(controller)
    }
    assert any(gaps.values()) and not all(gaps.values())
    for controller, reference, _name, _status, missing, _articles in completeness:
        expected = gaps[controller, reference]
        if expected:
            assert missing.split("\n") == [gap.text("nl") for gap in expected]
        else:
            assert missing == "Volledig"

    # Retention evidence: a summary of the chain, one line per activity with no run yet.
    evidence = workbook["Bewijs bewaring"]
    assert "intact" in evidence["A1"].value
    assert evidence.max_row == len(statements) + 2

    # The lists of allowed values.
    lists = workbook["Lijsten"]
    first = [row[0].value for row in lists.iter_rows(min_row=2) if row[0].value]
    assert first[:6] == [
        "Toestemming (art. 6.1.a AVG)",
        "Uitvoering van een overeenkomst (art. 6.1.b AVG)",
        "Wettelijke verplichting (art. 6.1.c AVG)",
        "Vitale belangen (art. 6.1.d AVG)",
        "Taak van algemeen belang of openbaar gezag (art. 6.1.e AVG)",
        "Gerechtvaardigd belang (art. 6.1.f AVG)",
    ]


def test_csv_has_a_row_per_activity_with_the_register_columns(statements):
    export = export_register(fmt="csv", lang="en")
    assert export.content_type == "text/csv; charset=utf-8"
    raw = export.content
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 when the file says so
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header == [c.heading["en"] for c in REGISTER_COLUMNS]
    assert len(body) == len(statements)
    column = {c.key: i for i, c in enumerate(REGISTER_COLUMNS)}
    by_reference = {(r[column["controller"]], r[column["reference"]]): r for r in body}
    assert set(by_reference) == {(a.controller.name, a.reference) for a in statements}
    for activity in statements:
        row = by_reference[activity.controller.name, activity.reference]
        assert row[column["name"]] == (activity.name_en or activity.name)
        for sentence in _sentences(activity, "en"):
            assert sentence in row[column["retention"]].split("\n") or sentence in row[column["retention"]]
        assert row[column["status"]] == activity.get_status_display()
        assert row[column["ended_on"]] == (activity.ended_on.isoformat() if activity.ended_on else "")
        measures = activity.security_measures.all()
        assert all((m.name_en or m.name) in row[column["security_measures"]] for m in measures)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_pdf_prints_every_activity_with_cover_completeness_and_page_numbers(statements, tmp_path):
    export = export_register(fmt="pdf", lang="fr", controller="voiceking")
    assert export.content.startswith(b"%PDF") and export.content_type == "application/pdf"
    path = tmp_path / "register.pdf"
    export.save(path)
    pages = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True).stdout
    pages = pages.split("\f")[:-1]
    text = _fold(" ".join(pages))

    assert "Registre des activités de traitement" in pages[0]
    assert "VoiceKing CVBA" in pages[0] and "BE0653.989.638" in pages[0] and "Généré le" in pages[0]
    assert all(f"Page {n} sur {len(pages)}" in page for n, page in enumerate(pages, start=1))
    voiceking = [a for a in statements if a.controller.key == "voiceking"]
    assert export.activities == len(voiceking)
    for activity in voiceking:
        assert f"{activity.reference} · {_fold(activity.name_fr or activity.name)}" in text
        for sentence in _sentences(activity, "fr"):
            assert _fold(sentence) in text, sentence
    assert "Complétude · VoiceKing CVBA" in text
    assert f"Activités de traitement : {len(voiceking)}" in text or f"Activités de traitement: {len(voiceking)}" in text
    # Nothing of another controller.
    assert "CodaBox" not in text

    # All controllers: each opens with its cover, on a new page.
    export = export_register(fmt="pdf", lang="en")
    assert export.activities == len(statements) and export.controllers == 6
    export.save(path)
    pages = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True).stdout
    covers = [page for page in pages.split("\f") if page.startswith("Register of processing activities")]
    assert len(covers) == 6


def test_json_follows_the_ropa_register_1_contract(statements):
    export = export_register(fmt="json")
    document = json.loads(export.content)
    assert set(document) == {"format", "generated_at", "as_of", "controllers"}
    assert document["format"] == "ropa-register/1" and document["as_of"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generated_at"])
    assert [c["name"] for c in document["controllers"]] == sorted(
        Controller.objects.values_list("name", flat=True), key=str.casefold
    )
    controller_keys = {
        "id", "name", "enterprise_number", "address", "country", "email", "phone", "website", "dpo",
        "dpo_not_required", "supervisory_authority", "statement", "activities",
    }  # fmt: skip
    activity_keys = {
        "id", "reference", "name", "role", "status", "ended_on", "replaced_by", "purposes",
        "data_subject_categories", "data_categories", "recipients", "retention", "security_measures",
        "automated_decision_making", "profiling", "dpia_required", "sources",
    }  # fmt: skip
    activities = 0
    for controller in document["controllers"]:
        assert set(controller) == controller_keys
        assert controller["country"] is None or re.fullmatch(r"[A-Z]{2}", controller["country"])
        for activity in controller["activities"]:
            activities += 1
            assert set(activity) == activity_keys
            assert activity["role"] in ("controller", "processor") and activity["status"] in ("active", "ended")
            for purpose in activity["purposes"]:
                assert purpose["legal_basis"] in (
                    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests",
                )  # fmt: skip
                assert (purpose["legitimate_interest"] is not None) <= (
                    purpose["legal_basis"] == "legitimate_interests"
                )
            for recipient in activity["recipients"]:
                assert set(recipient) == {"name", "kind", "country", "inside_eea", "safeguard"}
                assert recipient["safeguard"] in (None, "adequacy", "scc", "bcr", "derogation")
            for category in activity["data_categories"]:
                assert {"name", "special_category", "criminal"} <= set(category)
            for rule in activity["retention"]:
                assert set(rule) == {"data_category", "duration", "trigger", "action", "statutory", "maximum", "text"}
                assert rule["action"] in ("flag", "anonymise", "delete")
                assert rule["duration"] is None or rule["duration"]["unit"] in ("days", "weeks", "months", "years")
            assert all(set(source) == {"statement", "quote"} for source in activity["sources"])
            assert activity["sources"], activity["reference"]
    assert activities == len(statements)

    voiceking = next(c for c in document["controllers"] if c["name"] == "VoiceKing CVBA")
    assert voiceking["enterprise_number"] == "BE0653.989.638" and voiceking["dpo"] is None
    assert voiceking["dpo_not_required"] is None
    assert voiceking["statement"] == {"title": "Privacyverklaring VoiceKing", "date": "2018-05-01"}
    activity = ProcessingActivity.objects.get(controller__key="voiceking", reference="VK-01")
    exported = next(a for a in voiceking["activities"] if a["reference"] == "VK-01")
    assert exported["id"] == activity.pk and exported["name"] == activity.name_en
    assert [p["id"] for p in exported["purposes"]] == list(
        activity.purposes.order_by("position").values_list("id", flat=True)
    )
    assert [r["text"] for r in exported["retention"]] == _sentences(activity, "en")
    assert exported["data_subject_categories"] == sorted(
        activity.data_subject_categories.values_list("code", flat=True),
        key=lambda code: next(c.name.casefold() for c in activity.data_subject_categories.all() if c.code == code),
    )
    # The file and the API's document are the same document.
    document_now = register_document()
    assert {**document, "generated_at": None} == {**document_now, "generated_at": None}

    # Rebuilt from the version history as of today, the register is the register: the history path and
    # the live path agree on every field of every activity of the five statements.
    today = timezone.localdate()
    rebuilt = register_document(as_of=today)
    assert rebuilt["as_of"] == today.isoformat()
    assert rebuilt["controllers"] == document_now["controllers"]


def test_export_of_one_controller_by_key_id_or_instance():
    controller = ControllerFactory(key="acme")
    ProcessingActivityFactory(controller=controller)
    ProcessingActivityFactory()  # another controller's
    for reference in ("acme", controller.pk, str(controller.pk), controller, [controller]):
        document = register_document(controller=reference)
        assert [c["id"] for c in document["controllers"]] == [controller.pk]
        assert len(document["controllers"][0]["activities"]) == 1
    with pytest.raises(ExportError, match="No such controller: nobody"):
        register_document(controller="nobody")
    with pytest.raises(ExportError, match="Unknown format"):
        export_register(fmt="docx")
    with pytest.raises(ExportError, match="Unknown language"):
        export_register(fmt="csv", lang="de")
    with pytest.raises(ExportError, match=r"yesterday.*Use YYYY-MM-DD"):
        export_register(fmt="csv", as_of="yesterday")


def _activity(controller, n):
    activity = ProcessingActivityFactory(controller=controller, reference=f"Q-{n:03d}")
    PurposeFactory(activity=activity)
    RetentionRuleFactory(activity=activity, data_category=DataCategoryFactory(code="q-identity"))
    activity.data_categories.add(DataCategoryFactory(code="q-identity"))
    activity.data_subject_categories.add(DataSubjectCategoryFactory(code="q-customers"))
    activity.security_measures.add(SecurityMeasureFactory(code="q-encryption"))
    activity.recipients.add(
        RecipientFactory(controller=controller, key=f"q-recipient-{n}", country="US", safeguard="scc")
    )
    return activity


@pytest.mark.parametrize("as_of", [None, "today"])
def test_export_queries_do_not_grow_with_the_register(django_assert_max_num_queries, as_of):
    """Every format reads the register in batches: twice the activities, the same number of queries."""
    controller = ControllerFactory()
    for n in range(3):
        _activity(controller, n)
    as_of = timezone.localdate() if as_of else None

    def queries(fmt):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            export_register(fmt=fmt, as_of=as_of).close()
        return len(captured)

    small = {fmt: queries(fmt) for fmt in ("csv", "json", "xlsx")}
    for n in range(3, 9):
        _activity(controller, n)
    for fmt, count in small.items():
        with django_assert_max_num_queries(count):
            export_register(fmt=fmt, as_of=as_of).close()


def test_completeness_names_what_article_30_requires_and_is_missing():
    controller = ControllerFactory(email="", phone="", address="")
    bare = ProcessingActivityFactory(controller=controller, reference="BARE")
    outside = _activity(controller, 1)
    unsafe = RecipientFactory(controller=controller, key="us-nosafeguard", country="US", safeguard="")
    outside.recipients.add(unsafe)
    processor = ProcessingActivityFactory(controller=controller, reference="PROC", role="processor", client="")
    gaps = {e.activity.reference: e for e in register_snapshot(controller=controller).activities(controller)}
    codes = {reference: [g.code for g in activity_gaps(entry)] for reference, entry in gaps.items()}
    assert codes["BARE"] == [
        "purposes", "data_subjects", "data_categories", "recipients", "retention", "security_measures",
    ]  # fmt: skip
    assert codes["Q-001"] == ["transfer_safeguard"]
    assert [g.detail for g in activity_gaps(gaps["Q-001"])] == [unsafe.name]
    assert codes["PROC"] == ["client", "purposes", "security_measures"]
    assert bare.pk and processor.pk
    assert [g.code for g in controller_gaps(controller)] == ["controller_contact", "dpo"]


@pytest.mark.parametrize(
    ("dpo", "gaps"),
    [
        ({}, ["dpo"]),
        ({"dpo_not_required": "Not a public body; no large-scale monitoring or special data as a core activity."}, []),
        ({"dpo_name": "An Peeters"}, ["dpo_contact"]),
        ({"dpo_name": "An Peeters", "dpo_email": "dpo@example.be"}, []),
        ({"dpo_phone": "+32 2 000 00 00"}, []),
    ],
)
def test_a_controller_names_its_dpo_with_contact_details_or_says_why_none_is_designated(dpo, gaps):
    controller = ControllerFactory(email="privacy@example.be", **dpo)
    assert [g.code for g in controller_gaps(controller)] == gaps
    assert [g.article for g in controller_gaps(controller)] == [
        {"dpo": "30(1)(a), 37(1)", "dpo_contact": "30(1)(a), 37(7)"}[code] for code in gaps
    ]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_defused():
    controller = ControllerFactory()
    activity = ProcessingActivityFactory(controller=controller, name_en='=HYPERLINK("http://evil.example","x")')
    PurposeFactory(activity=activity, description_en="+32 2 000 00 00")
    rows = list(csv.reader(io.StringIO(export_register(fmt="csv").content.decode("utf-8-sig"))))
    column = {c.key: i for i, c in enumerate(REGISTER_COLUMNS)}
    assert rows[1][column["name"]] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][column["purposes"]] == "+32 2 000 00 00"  # a phone number stays as it is


def test_text_shown_in_another_language_than_asked_is_marked_with_its_own(statements):
    """Asked language, else English, else the register's own (Dutch), marked "[nl]"/"[en]": an English or
    French reader never takes the statements' Dutch business processes or sources for a translation."""
    column = {c.key: i for i, c in enumerate(REGISTER_COLUMNS)}

    def rows(lang):
        raw = export_register(fmt="csv", lang=lang).content.decode("utf-8-sig")
        return {r[column["reference"]]: r for r in list(csv.reader(io.StringIO(raw, newline="")))[1:]}

    dutch, english, french = rows("nl"), rows("en"), rows("fr")
    with_process = [a for a in statements if a.business_process]
    with_source = [a for a in statements if a.data_source]
    assert with_process and with_source
    for activity in with_process:
        assert dutch[activity.reference][column["business_process"]] == activity.business_process
        assert english[activity.reference][column["business_process"]] == f"[nl] {activity.business_process}"
        assert french[activity.reference][column["business_process"]] == f"[nl] {activity.business_process}"
    for activity in with_source:
        assert english[activity.reference][column["data_source"]].startswith(f"[nl] {activity.data_source}")
    # The statements' names are translated: none marked, each in the language asked.
    for activity in statements:
        assert french[activity.reference][column["name"]] == activity.name_fr
        assert english[activity.reference][column["name"]] == activity.name_en
        assert dutch[activity.reference][column["name"]] == activity.name
    assert not any("[nl]" in row[column["purposes"]] for row in french.values())


def test_a_missing_translation_falls_back_to_english_then_the_original(db):
    from tests.factories import ProcessingActivityFactory

    activity = ProcessingActivityFactory(name="Klantenbeheer", name_en="Customer management", name_fr="")
    assert activity.localized_marked(language="fr") == "[en] Customer management"
    assert activity.localized_marked(language="en") == "Customer management"
    assert activity.localized_marked(language="nl") == "Klantenbeheer"
    activity.name_en = ""
    assert activity.localized_marked(language="fr") == "[nl] Klantenbeheer"
    assert activity.localized(language="fr") == "Klantenbeheer"

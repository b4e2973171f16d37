"""--as-of: the register exactly as it stood on a date, rebuilt from django-simple-history.

The register is written at controlled moments: every history row a block writes is dated to that
moment afterwards (history rows carry their own date; nothing freezes the clock).
"""

import csv
import datetime as dt
import io
import json
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.apps import apps
from django.db.models import Max

from processing.choices import ActivityStatus
from processing.services import processing_activity_end
from ropa.register import ExportError, export_register, register_document
from ropa.register.columns import REGISTER_COLUMNS
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    DataSubjectCategoryFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
    RetentionRuleFactory,
)

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Brussels")
JAN = dt.datetime(2024, 1, 10, 9, 0, tzinfo=TZ)
MAR = dt.datetime(2024, 3, 1, 23, 30, tzinfo=TZ)  # late on 1 March, Brussels time (22:30 UTC)
JUN = dt.datetime(2024, 6, 1, 10, 0, tzinfo=TZ)


def _history_models():
    return [m for m in apps.get_models() if m.__name__.startswith("Historical") and hasattr(m, "history_date")]


@contextmanager
def dated(moment: dt.datetime):
    """Date every version-history row the block writes at ``moment`` (all alike: ties must not matter)."""
    models = _history_models()
    before = {m: m.objects.aggregate(last=Max("history_id"))["last"] or 0 for m in models}
    yield
    for model in models:
        model.objects.filter(history_id__gt=before[model]).update(history_date=moment)


@pytest.fixture
def register():
    """In January a payroll activity; on 1 March it is renamed, gains a category and a US recipient, its
    retention shortens from 10 to 7 years and a second activity appears; in June payroll ends, replaced."""
    with dated(JAN):
        controller = ControllerFactory(key="acme", name="Acme NV")
        identity = DataCategoryFactory(code="identity", name="Identiteit", name_en="Identity")
        salary = DataCategoryFactory(code="salary", name="Loon", name_en="Salary")
        staff = DataSubjectCategoryFactory(code="staff", name="Personeel", name_en="Staff")
        payroll = ProcessingActivityFactory(controller=controller, reference="HR-01", name="Loon", name_en="Payroll")
        PurposeFactory(activity=payroll, description="Lonen betalen", description_en="Paying wages")
        rule = RetentionRuleFactory(activity=payroll, duration_value=10, duration_unit="years", trigger="contract_end")
        payroll.data_categories.set([identity])
        payroll.data_subject_categories.set([staff])
    with dated(MAR):
        payroll.name_en = "Salary administration"
        payroll.save()
        payroll.data_categories.add(salary)
        payroll.recipients.add(RecipientFactory(controller=controller, key="us-payroll", country="US", safeguard="scc"))
        rule.duration_value = 7
        rule.save()
        staff.name_en = "Employees"
        staff.save()
        successor = ProcessingActivityFactory(controller=controller, reference="HR-02", name_en="Payroll service")
        PurposeFactory(activity=successor)
    with dated(JUN):
        processing_activity_end(activity=payroll, ended_on=dt.date(2024, 5, 31), replaced_by=successor)
    return controller


def _activities(document):
    activities = [a for c in document["controllers"] for a in c["activities"]]
    by_reference = {a["reference"]: a for a in activities}
    assert len(by_reference) == len(activities), "an activity shows twice"
    return by_reference


def test_as_of_rebuilds_each_past_state_of_the_register(register):
    # Before the register's history begins there is nothing to show: refused, saying from when (never an
    # empty register that readers take for the register of that day); a day to come is refused too.
    with pytest.raises(ExportError, match="history starts on 2024-01-10"):
        register_document(as_of=dt.date(2024, 1, 9))
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(ExportError, match=f"{tomorrow} is in the future"):
        register_document(as_of=tomorrow)
    # A controller that came later is not in the register of a day before it, and asking for it says so.
    with dated(JUN):
        ControllerFactory(key="later", name="Later BV")
    with pytest.raises(ExportError, match="not yet in the register"):
        register_document(controller="later", as_of=dt.date(2024, 2, 29))

    january = _activities(register_document(as_of=dt.date(2024, 2, 29)))
    assert list(january) == ["HR-01"]  # HR-02 was created later
    payroll = january["HR-01"]
    assert payroll["name"] == "Payroll" and payroll["status"] == "active" and payroll["ended_on"] is None
    assert [c["code"] for c in payroll["data_categories"]] == ["identity"]
    assert payroll["recipients"] == []
    assert payroll["data_subject_categories"] == ["staff"]
    assert [r["duration"] for r in payroll["retention"]] == [{"value": 10, "unit": "years"}]
    assert payroll["retention"][0]["text"] == "Deleted 10 years after the end of the contract."

    # "As of 1 March" includes 1 March, in the register's time zone (the change was at 22:30 UTC).
    march = _activities(register_document(as_of=dt.date(2024, 3, 1)))
    assert list(march) == ["HR-01", "HR-02"]
    payroll = march["HR-01"]
    assert payroll["name"] == "Salary administration" and payroll["status"] == "active"
    assert [c["code"] for c in payroll["data_categories"]] == ["identity", "salary"]
    assert [(r["country"], r["inside_eea"], r["safeguard"]) for r in payroll["recipients"]] == [("US", False, "scc")]
    assert payroll["retention"][0]["text"] == "Deleted 7 years after the end of the contract."

    # After the end: the ended activity still shows, with its end date and successor.
    june = _activities(register_document(as_of=dt.date(2024, 6, 1)))
    assert june["HR-01"]["status"] == "ended" and june["HR-01"]["ended_on"] == "2024-05-31"
    assert june["HR-01"]["replaced_by"] == "HR-02"
    assert june["HR-02"]["status"] == "active"

    # Today's register is the last state.
    assert _activities(register_document()) == june


def test_every_format_shows_the_register_as_of_the_date(register):
    column = {c.key: i for i, c in enumerate(REGISTER_COLUMNS)}

    # CSV, as of February: the first name, the old retention, no successor.
    rows = list(csv.reader(io.StringIO(export_register(fmt="csv", as_of="2024-02-15").content.decode("utf-8-sig"))))
    assert [row[column["reference"]] for row in rows[1:]] == ["HR-01"]
    assert rows[1][column["name"]] == "Payroll"
    assert rows[1][column["retention"]] == "Deleted 10 years after the end of the contract."
    assert rows[1][column["data_subjects"]] == "Staff"  # the category's name as it was then
    assert rows[1][column["third_countries"]] == "None"

    # XLSX, as of June, in Dutch: the ended activity with its end date and replacement; dates stamped.
    export = export_register(fmt="xlsx", as_of=dt.date(2024, 6, 15), lang="nl", controller="acme")
    assert export.filename == "register-acme-2024-06-15.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(export.content))
    sheet = workbook["Register"]
    rows = {row[column["reference"]]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert set(rows) == {"HR-01", "HR-02"}
    assert rows["HR-01"][column["status"]] == "Beëindigd"
    assert rows["HR-01"][column["ended_on"]].date() == dt.date(2024, 5, 31)
    assert rows["HR-01"][column["replaced_by"]].startswith("HR-02 ")
    assert rows["HR-01"][column["retention"]] == "Verwijderd 7 jaar na het einde van de overeenkomst."
    assert "Verenigde Staten" in rows["HR-01"][column["third_countries"]]
    stamp = workbook["Verwerkingsverantwoordelijke"]["A3"].value
    assert "Register zoals het was op 2024-06-15" in stamp

    # JSON, as of March.
    document = json.loads(export_register(fmt="json", as_of="2024-03-01").content)
    assert document["as_of"] == "2024-03-01"
    assert [a["reference"] for a in document["controllers"][0]["activities"]] == ["HR-01", "HR-02"]
    payroll = document["controllers"][0]["activities"][0]
    assert [p["id"] for p in payroll["purposes"]] == list(
        register.activities.get(reference="HR-01").purposes.values_list("id", flat=True)
    )  # the purposes' own ids, not their history rows'


def test_changes_after_the_date_do_not_leak_into_the_export(register):
    """A later rename of a vocabulary term, a removed recipient and a removed rule stay out of the past."""
    payroll = register.activities.get(reference="HR-01")
    with dated(dt.datetime(2024, 9, 1, tzinfo=TZ)):
        payroll.recipients.clear()
        payroll.retention_rules.all().delete()
        identity = payroll.data_categories.get(code="identity")
        identity.name_en = "Identification data"
        identity.save()
    june = _activities(register_document(as_of=dt.date(2024, 6, 1)))["HR-01"]
    assert len(june["recipients"]) == 1 and len(june["retention"]) == 1
    assert [c["name"] for c in june["data_categories"]] == ["Identity", "Salary"]
    now = _activities(register_document())["HR-01"]
    assert now["recipients"] == [] and now["retention"] == []
    assert [c["name"] for c in now["data_categories"]] == ["Identification data", "Salary"]
    assert now["status"] == ActivityStatus.ENDED

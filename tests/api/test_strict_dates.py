"""Where the API says YYYY-MM-DD it takes exactly that: no ISO week dates (``2026-W01-1`` was stored as
2025-12-29), no ``20260101``, no full-width digits; and the error says whether the form is wrong or the
day does not exist. The same field reads every date of every serializer and filter, the register-file
import and the commands' date options."""

import sys

import django_filters
import pytest
from django.core.management import CommandError, call_command
from django.urls import get_resolver
from rest_framework import serializers

from ropa.api.filters import DateFilter
from ropa.api.validators import DateField
from subjects.models import PersonalDataRecord

pytestmark = pytest.mark.django_db

WRONG_FORM = [
    "2026-W01-1",
    "2026W011",
    "20260101",
    "\uff12\uff10\uff12\uff16-01-01",  # full-width digits
    "2026-1-5",
    "2026-01-01T00:00",
    "2026-01-01\n",
    " 2026-01-01",
    "2026-001",
    "01/01/2026",
    "",
]
USE_FORM = ["Use YYYY-MM-DD."]


@pytest.mark.parametrize("value", WRONG_FORM)
def test_a_record_date_in_another_form_is_refused_saying_the_form(world, value):
    response = world.api("system_a").post("records/", world.record(collected_on=value))
    assert response.status_code == 400, response.json()
    assert response.json() == {"collected_on": USE_FORM}
    assert not PersonalDataRecord.objects.exists()


@pytest.mark.parametrize("value", ["2026-02-30", "2025-02-29", "2026-04-31", "2026-13-01", "2026-00-10"])
def test_a_day_the_calendar_does_not_have_is_refused_naming_it(world, value):
    response = world.api("system_a").post("records/", world.record(collected_on=value))
    assert response.status_code == 400
    assert response.json() == {"collected_on": [f"{value} is not a day of the calendar."]}


def test_a_real_day_is_stored_as_written(world):
    response = world.api("system_a").post("records/", world.record(collected_on="2024-02-29"))
    assert response.status_code == 201, response.json()
    assert PersonalDataRecord.objects.get().collected_on.isoformat() == "2024-02-29"


def test_every_date_input_of_the_api_is_strict(world):
    system, dpo = world.api("system_a"), world.api("dpo")
    assert system.post("records/", world.record()).status_code == 201
    record = PersonalDataRecord.objects.get()
    activity = f"processing-activities/{world.activity_a.pk}/"
    for method, api, url, body, field in [
        ("post", system, "records/batch/", {"records": [world.record(contract_ended_on="2026-W01-1")]}, "records"),
        ("patch", system, f"records/{record.pk}/", {"contract_ended_on": "2026-W01-1"}, "contract_ended_on"),
        ("patch", dpo, f"controllers/{world.a.pk}/", {"statement_date": "2026-W01-1"}, "statement_date"),
        ("patch", dpo, activity, {"dpia_done_on": "20260101"}, "dpia_done_on"),
        ("patch", dpo, activity, {"last_reviewed_on": "2026-W01-1"}, "last_reviewed_on"),
        ("post", dpo, f"{activity}end/", {"ended_on": "2026-W01-1"}, "ended_on"),
        ("post", system, "requests/", {"subject": "s-1", "type": "access", "received_on": "2026-W01-1"}, "received_on"),
    ]:
        response = getattr(api, method)(url, body)
        assert response.status_code == 400, (url, response.status_code, response.content[:300])
        assert field in response.json(), (url, response.json())
        assert "Use YYYY-MM-DD." in str(response.json()), (url, response.json())
    for url in ("register/?as_of=2026-W01-1", "register/export/?format=json&as_of=20260101"):
        response = dpo.get(url)
        assert response.status_code == 400, url
        assert response.json() == {"as_of": USE_FORM}, url
    response = dpo.get("register/?as_of=2026-02-30")
    assert response.json() == {"as_of": ["2026-02-30 is not a day of the calendar."]}


def _serializer_classes():
    """Every serializer class of the project: the API's, the register file's, wherever they are defined."""
    get_resolver().url_patterns  # imports every view, and with them every serializer  # noqa: B018
    import ropa.register.importer  # noqa: F401

    return {
        candidate
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("processing", "retention", "subjects", "ropa")
        for candidate in vars(module).values()
        if isinstance(candidate, type)
        and issubclass(candidate, serializers.BaseSerializer)
        and candidate.__module__ == name
    }


def _date_fields(serializer, path, seen):
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.DateField):
            yield f"{path}.{name}", field
        if isinstance(field, serializers.BaseSerializer) and type(field) not in seen:
            yield from _date_fields(field, f"{path}.{name}", seen | {type(field)})


def test_every_date_field_that_reads_input_is_the_strict_one():
    classes = _serializer_classes()
    assert len(classes) > 20
    lax, checked = [], 0
    for cls in classes:
        try:
            serializer = cls()
            fields = list(_date_fields(serializer, cls.__name__, {cls}))
        except (AssertionError, TypeError):  # an abstract base (no Meta.model) or a list needing its child
            continue
        for path, field in fields:
            if isinstance(field, serializers.DateTimeField) or field.read_only:
                continue
            checked += 1
            if not isinstance(field, DateField):
                lax.append(path)
    assert checked >= 10
    assert lax == []


def test_no_filterset_uses_a_lax_date_filter():
    filtersets = {
        cls
        for module in ("processing.filtersets", "subjects.api.filtersets")
        for cls in vars(__import__(module, fromlist=["*"])).values()
        if isinstance(cls, type) and issubclass(cls, django_filters.FilterSet)
    }
    assert len(filtersets) >= 5
    lax = [
        f"{cls.__name__}.{name}"
        for cls in filtersets
        for name, filter_ in cls.base_filters.items()
        if isinstance(filter_, django_filters.DateFilter | django_filters.DateFromToRangeFilter)
        and not isinstance(filter_, DateFilter)
    ]
    assert lax == []


def test_the_strict_date_filter_says_what_is_wrong():
    field = DateFilter(field_name="collected_on").field
    assert field.clean("2026-03-01").isoformat() == "2026-03-01"
    for value, message in [
        ("2026-W01-1", "Use YYYY-MM-DD."),
        ("2026-02-30", "2026-02-30 is not a day of the calendar."),
    ]:
        with pytest.raises(Exception) as error:
            field.clean(value)
        assert error.value.messages == [message]


REGISTER_FILE = """
format: ropa-file/1
statement: {{file: none.txt, title: Register, date: {date}}}
vocabulary: {{}}
controllers:
  - key: initech
    name: Initech NV
    country: BE
"""


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-W01-1", "Use YYYY-MM-DD."),
        ("20260101", "Use YYYY-MM-DD."),
        ('"20260101"', "Use YYYY-MM-DD."),
        ("2026-1-5", "Use YYYY-MM-DD."),
        ("2026-02-30", "2026-02-30 is not a day of the calendar."),
    ],
)
def test_the_register_file_import_reads_dates_strictly(tmp_path, date, message):
    path = tmp_path / "dates.yaml"
    path.write_text(REGISTER_FILE.format(date=date))
    with pytest.raises(CommandError) as error:
        call_command("import_register", str(path))
    assert "dates.yaml" in str(error.value) and "statement.date" in str(error.value)
    assert message in str(error.value)


def test_the_register_file_import_takes_a_plain_day(tmp_path):
    path = tmp_path / "dates.yaml"
    path.write_text(REGISTER_FILE.format(date="2026-01-05"))
    call_command("import_register", str(path))
    from processing.models import Controller

    assert Controller.objects.get(key="initech").statement_date.isoformat() == "2026-01-05"


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("export_audit", ["--since", "2026-W01-1"]),
        ("export_audit", ["--since", "2026-01-01", "--until", "9999-12-31"]),
        ("export_register", ["--format", "json", "--as-of", "2026-W01-1"]),
    ],
)
def test_commands_read_days_strictly(command, args, tmp_path):
    with pytest.raises(CommandError):
        call_command(command, *args, "-o", str(tmp_path / "out"))

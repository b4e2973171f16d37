"""A register file that changes retention rules: it cannot weaken a statutory minimum that still keeps
records unless the import states why (audited), and its report lists the records whose expiry moved earlier."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from processing.models import DataCategory, ProcessingActivity
from retention.models import RetentionRule
from retention.services import record_register
from ropa.audit.models import AuditEvent
from ropa.register.importer import RegisterFileError, load
from subjects.models import PersonalDataRecord
from tests.factories import DataSubjectFactory
from tests.support.register_file import GOOD

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
STATUTORY = GOOD.replace("action: delete,", "action: delete, statutory: true, legal_reference: Art. III.88 WER,")


def years_ago(n: int) -> dt.date:
    return TODAY.replace(year=TODAY.year - n, day=min(TODAY.day, 28))


def register(*, ended: dt.date | None, external_id: str) -> PersonalDataRecord:
    activity = ProcessingActivity.objects.get(reference="AC-01")
    return record_register(
        subject=DataSubjectFactory(controller=activity.controller),
        activity=activity,
        data_category=DataCategory.objects.get(code="identification"),
        source_system="crm",
        external_id=external_id,
        payload={"name": "Jan Peeters"},
        dates={"contract_ended_on": ended},
    )


@pytest.fixture
def loaded(write):
    load(write(STATUTORY))
    kept = register(ended=years_ago(3), external_id="kept")
    running = register(ended=None, external_id="running")
    return kept, running


def test_a_file_that_shortens_a_statutory_rule_still_keeping_records_is_refused(write, loaded):
    expiries = dict(PersonalDataRecord.objects.values_list("pk", "expires_at"))
    with pytest.raises(RegisterFileError) as refused:
        load(write(STATUTORY.replace("value: 10", "value: 2")))
    problems = " ".join(refused.value.problems)
    assert "statutory minimum that still keeps 2 record(s)" in problems and "reason for overriding" in problems
    assert RetentionRule.objects.get().duration_value == 10
    assert dict(PersonalDataRecord.objects.values_list("pk", "expires_at")) == expiries
    with pytest.raises(CommandError, match="still keeps 2 record"):
        call_command("import_register", str(write(STATUTORY.replace("statutory: true,", ""))))
    assert RetentionRule.objects.get().statutory is True


def test_with_an_override_reason_the_file_loads_audited_and_lists_the_records(write, loaded, capsys):
    kept, _running = loaded
    path = write(STATUTORY.replace("value: 10", "value: 2"))
    call_command("import_register", str(path), "--override-reason", "The statement now says 2 years.")
    out = capsys.readouterr().out
    assert "retention of 1 record(s) now ends earlier, 1 of them due now" in out
    assert f"records {kept.pk}" in out
    rule = RetentionRule.objects.get()
    assert rule.duration_value == 2
    (override,) = [
        event
        for event in AuditEvent.objects.filter(object_type="retention.retentionrule", object_id=str(rule.pk))
        if "statutory override" in event.changed_fields
    ]
    assert override.changes["override_reason"] == [None, "The statement now says 2 years."]
    assert override.changes["records_kept"] == [2, None]


def test_a_file_that_shortens_an_ordinary_rule_reports_the_records(write):
    load(write(GOOD))
    record = register(ended=years_ago(3), external_id="c-1")
    report = load(write(GOOD.replace("value: 10", "value: 2")))
    assert (report.retention.earlier, report.retention.records, report.retention.now_due) == (1, (record.pk,), 1)
    assert "retention of 1 record(s) now ends earlier" in str(report)
    again = load(write(GOOD.replace("value: 10", "value: 2")))
    assert again.retention.earlier == 0 and "ends earlier" not in str(again)

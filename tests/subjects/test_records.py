"""Registering records: validated, idempotent on (source system, external id), expiry computed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from retention.services import (
    legal_hold_place,
    record_register,
    record_update_dates,
    record_upsert,
    record_warnings,
    subject_register,
)
from ropa.kernel.problems import Conflict
from subjects.choices import RecordStatus
from subjects.models import DataSubject, PersonalDataRecord
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    PersonalDataRecordFactory,
    ProcessingActivityFactory,
    RetentionRuleFactory,
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Europe/Brussels")


@pytest.fixture
def setup():
    rule = RetentionRuleFactory(trigger="contract_end", duration_value=10, duration_unit="years")
    subject = DataSubjectFactory(controller=rule.activity.controller)
    return rule, subject, DataCategoryFactory()


def register(setup, **kwargs):
    rule, subject, category = setup
    values = {
        "subject": subject,
        "activity": rule.activity,
        "data_category": category,
        "source_system": "billing",
        "external_id": "INV-1",
        "dates": {"contract_ended_on": dt.date(2020, 1, 31)},
    }
    return record_register(**{**values, **kwargs})


def test_register_computes_the_expiry_and_the_deciding_rule(setup):
    record = register(setup)
    assert record.expires_at == dt.datetime(2030, 2, 1, tzinfo=TZ)
    assert record.expiry_rule == setup[0]
    assert record.status == RecordStatus.ACTIVE


def test_register_is_idempotent_on_source_system_and_external_id(setup):
    first = register(setup, payload={"amount": 10})
    again = register(setup, payload={"amount": 10})
    assert again.pk == first.pk and PersonalDataRecord.objects.count() == 1
    moved = register(setup, dates={"contract_ended_on": dt.date(2021, 1, 31)})
    assert moved.pk == first.pk and moved.expires_at == dt.datetime(2031, 2, 1, tzinfo=TZ)
    other_system = register(setup, source_system="crm")
    assert other_system.pk != first.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dates": {"born_on": dt.date(1990, 1, 1)}}, "born_on"),
        ({"dates": {"collected_on": "2020-01-01"}}, "collected_on"),
        ({"dates": {"collected_on": dt.datetime(2020, 1, 1, tzinfo=TZ)}}, "collected_on"),
    ],
)
def test_register_refuses_unknown_or_malformed_dates(setup, change, field):
    with pytest.raises(ValidationError) as error:
        register(setup, **change)
    assert field in error.value.message_dict


def test_register_refuses_a_subject_of_another_controller_and_a_foreign_rule(setup):
    with pytest.raises(ValidationError, match="another controller"):
        register(setup, subject=DataSubjectFactory())
    with pytest.raises(ValidationError, match="another activity"):
        register(setup, retention_rule=RetentionRuleFactory())
    with pytest.raises(ValidationError, match="another data category"):
        register(
            setup, retention_rule=RetentionRuleFactory(activity=setup[0].activity, data_category=DataCategoryFactory())
        )
    assert not PersonalDataRecord.objects.exists()


def test_register_refuses_to_move_a_record_to_another_subject(setup):
    register(setup)
    with pytest.raises(ValidationError, match="another subject"):
        register(setup, subject=DataSubjectFactory(controller=setup[0].activity.controller))


def test_a_named_rule_applies_with_the_statutory_rules_only(setup):
    rule = setup[0]
    short = RetentionRuleFactory(activity=rule.activity, trigger="collection", duration_value=1, duration_unit="years")
    statutory = RetentionRuleFactory(
        activity=rule.activity, trigger="collection", duration_value=7, duration_unit="years", statutory=True
    )
    record = register(setup, retention_rule=short, dates={"collected_on": dt.date(2020, 3, 1)})
    assert record.expiry_rule == statutory  # the 10-year contract rule is not named; the statutory one still is
    assert record.expires_at == dt.datetime(2027, 3, 2, tzinfo=TZ)


def test_update_dates_recomputes_and_refuses_erased_records(setup):
    record = register(setup, dates={})
    assert record.expires_at is None  # the contract has not ended
    record = record_update_dates(record=record, dates={"contract_ended_on": dt.date(2024, 2, 29)})
    assert record.expires_at == dt.datetime(2034, 3, 1, tzinfo=TZ)
    PersonalDataRecord.objects.filter(pk=record.pk).update(status=RecordStatus.ERASED)
    with pytest.raises(ValidationError):
        record_update_dates(record=record, dates={"contract_ended_on": None})


def test_subject_register_is_idempotent_on_the_key():
    activity = ProcessingActivityFactory()
    first = subject_register(controller=activity.controller, key="cust-42", identifiers={"customer": "42"})
    again = subject_register(controller=activity.controller, key="cust-42")
    assert again.pk == first.pk and again.identifiers == {"customer": "42"}
    fresh = subject_register(controller=activity.controller)
    assert len(fresh.key) == 32 and DataSubject.objects.count() == 2


def test_the_record_factory_builds_a_consistent_record():
    record = PersonalDataRecordFactory()
    assert record.subject.controller == record.activity.controller


# --- what an upsert keeps, and what a hold or a restriction freezes ----------------------------------------


def test_an_upsert_keeps_what_it_is_not_given_and_clears_what_is_none(setup):
    rule = setup[0]
    named = RetentionRuleFactory(activity=rule.activity, trigger="collection", duration_value=3, duration_unit="years")
    first = record_upsert(**_args(setup, payload={"amount": 10}, retention_rule=named))
    assert first.outcome == "created"
    again = record_upsert(**_args(setup, dates={"collected_on": dt.date(2020, 5, 1)}))
    assert (again.outcome, again.changed) == ("updated", ("collected_on",))
    record = PersonalDataRecord.objects.get()
    assert (record.payload, record.retention_rule, record.contract_ended_on) == (
        {"amount": 10},
        named,
        dt.date(2020, 1, 31),
    )
    assert record_upsert(**_args(setup, payload={"amount": 10})).outcome == "unchanged"
    # A JSON 10.0 is not the 10 the system sent before.
    assert record_upsert(**_args(setup, payload={"amount": 10.0})).outcome == "updated"
    cleared = record_upsert(**_args(setup, payload=None, retention_rule=None, dates={"contract_ended_on": None}))
    assert cleared.outcome == "updated"
    record.refresh_from_db()
    assert (record.payload, record.retention_rule, record.contract_ended_on) == (None, None, None)


def _args(setup, **kwargs):
    rule, subject, category = setup
    return {
        "subject": subject,
        "activity": rule.activity,
        "data_category": category,
        "source_system": "billing",
        "external_id": "INV-1",
        "dates": {"contract_ended_on": dt.date(2020, 1, 31)},
        **kwargs,
    }


def test_a_controller_hold_refuses_a_move_to_another_controller_with_a_conflict(setup, dpo):
    record = register(setup)
    hold = legal_hold_place(reason="Tax audit 2024", actor=dpo, controller=record.activity.controller)
    elsewhere = RetentionRuleFactory()
    with pytest.raises(Conflict) as refused:
        register(
            setup,
            activity=elsewhere.activity,
            subject=DataSubjectFactory(controller=elsewhere.activity.controller),
        )
    body = refused.value.body()
    assert (body["code"], body["holds"], body["fields"]) == ("record_held", [hold.pk], ["subject", "activity"])
    assert "Tax audit" not in body["detail"]
    record.refresh_from_db()
    assert record.activity == setup[0].activity


def test_a_restricted_record_takes_only_the_persons_own_dates(setup):
    record = register(setup)
    PersonalDataRecord.objects.filter(pk=record.pk).update(restricted_at=dt.datetime(2024, 1, 1, tzinfo=TZ))
    with pytest.raises(Conflict) as refused:
        record_update_dates(record=record, dates={"contract_ended_on": dt.date(2024, 1, 31)})
    assert refused.value.body()["code"] == "record_restricted"
    with pytest.raises(Conflict):
        register(setup, payload={"amount": 99})
    assert record_update_dates(record=record, dates={"contract_ended_on": dt.date(2020, 1, 31)}).pk == record.pk
    moved = record_update_dates(record=record, dates={"consent_withdrawn_on": dt.date(2024, 3, 1)}, subject_act=True)
    assert moved.consent_withdrawn_on == dt.date(2024, 3, 1)


def test_a_record_without_expiry_is_warned_about(setup):
    record = register(setup, dates={})
    (warning,) = record_warnings(record)
    assert (warning["code"], warning["dates"], warning["rules"]) == ("no_expiry", ["contract_ended_on"], [setup[0].pk])
    record = record_update_dates(record=record, dates={"contract_ended_on": dt.date(2024, 1, 31)})
    assert record_warnings(record) == []
    bare = ProcessingActivityFactory(controller=setup[0].activity.controller)
    lone = register(setup, external_id="INV-2", activity=bare, dates={"collected_on": dt.date(2024, 1, 1)})
    (warning,) = record_warnings(lone)
    assert warning["rules"] == [] and "no retention rule of its activity applies" in warning["detail"]

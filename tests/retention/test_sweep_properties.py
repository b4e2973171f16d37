"""Properties of whole sweeps on random records, rules, holds and moments: the sweep does what the pure
engine decides for each record, the dry run reports exactly what the real run then does, a held record
is never touched, and a second sweep changes nothing."""

import datetime as dt
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.choices import Action
from retention.engine import RecordState, sweep_steps
from retention.models import Tombstone
from retention.selectors import record_is_held, tombstone_chain_problems
from retention.services import legal_hold_place, record_register, retention_enforce
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory, RetentionRuleFactory
from tests.support.records import TZ

pytestmark = pytest.mark.django_db

moments = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2032, 1, 1), timezones=st.just(TZ))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rules=st.lists(
        st.tuples(st.sampled_from(Action.values), st.sampled_from([0, 3, 40]), st.integers(1, 36)),
        min_size=1,
        max_size=2,
    ),
    records=st.lists(
        st.tuples(
            st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2030, 1, 1)),
            st.sampled_from([None, "record", "subject"]),
        ),
        min_size=1,
        max_size=8,
    ),
    earlier=moments,
    gap=st.integers(min_value=0, max_value=60),
)
def test_the_sweep_does_what_the_engine_decides_and_the_dry_run_foretells_it(db, dpo, rules, records, earlier, gap):
    activity = ProcessingActivityFactory()
    category = DataCategoryFactory()
    for action, grace, months in rules:
        RetentionRuleFactory(
            activity=activity,
            trigger="collection",
            duration_value=months,
            duration_unit="months",
            action=action,
            grace_days=grace,
        )
    made = []
    for i, (collected, hold) in enumerate(records):
        record = record_register(
            subject=DataSubjectFactory(controller=activity.controller),
            activity=activity,
            data_category=category,
            source_system=f"prop-{activity.pk}",
            external_id=str(i),
            payload={"n": i},
            dates={"collected_on": collected},
        )
        if hold:
            legal_hold_place(reason="property", actor=dpo, **{hold: record if hold == "record" else record.subject})
        made.append(record)
    controller = activity.controller
    retention_enforce(now=earlier, controller=controller)  # some records flagged, some maybe erased already
    now = earlier + dt.timedelta(days=gap)

    expected_steps, held = {}, set()
    for record in PersonalDataRecord.objects.filter(activity=activity).select_related("expiry_rule"):
        state = RecordState(
            status=record.status,
            expires_at=record.expires_at,
            action=record.expiry_rule.action if record.expiry_rule else None,
            grace_days=record.expiry_rule.grace_days if record.expiry_rule else 0,
            erase_after=record.erase_after,
            held=record_is_held(record),
        )
        expected_steps[record.pk] = sweep_steps(state, now=now)
        if state.held:
            held.add(record.pk)
    expected = Counter(step for steps in expected_steps.values() for step in steps)
    before = list(PersonalDataRecord.objects.filter(activity=activity).order_by("pk").values())
    tombstones_before = Tombstone.objects.count()

    dry = retention_enforce(now=now, controller=controller, dry_run=True)
    assert list(PersonalDataRecord.objects.filter(activity=activity).order_by("pk").values()) == before
    real = retention_enforce(now=now, controller=controller, batch_size=3)

    for run in (dry, real):
        assert (run.flagged, run.anonymised, run.deleted) == (
            expected["flag"],
            expected["anonymise"],
            expected["delete"],
        )
    assert dry.counts == real.counts and dry.skipped_for_hold == real.skipped_for_hold
    assert Tombstone.objects.count() - tombstones_before == expected["anonymise"] + expected["delete"]
    for record in made:
        current = PersonalDataRecord.objects.filter(pk=record.pk).first()
        steps = expected_steps.get(record.pk, ())
        if "delete" in steps:
            assert current is None
        elif "anonymise" in steps:
            assert current.status == RecordStatus.ERASED and current.payload is None
    after = {row["id"]: row for row in PersonalDataRecord.objects.filter(pk__in=held).values()}
    assert [after[row["id"]] for row in before if row["id"] in held] == [row for row in before if row["id"] in held]
    assert list(tombstone_chain_problems()) == []

    again = retention_enforce(now=now, controller=controller)
    assert (again.flagged, again.anonymised, again.deleted) == (0, 0, 0)

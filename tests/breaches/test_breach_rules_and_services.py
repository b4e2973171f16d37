"""The breach register's rules and services: the state machine, the 72-hour clock across a summer-time
change, the scope counted from the records, versioned assessments, filings (late ones need reasons), the
Art. 34(3) grounds, evidence held while the breach is open and released when it closes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from retention.breaches import rules, selectors, services
from retention.breaches.choices import BreachStatus, RiskLevel
from retention.models import LegalHold
from retention.services import record_register
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
S = BreachStatus


@pytest.mark.parametrize(
    ("status", "to", "kwargs", "problem"),
    [
        (S.RECEIVED, S.ASSESSED, {"level": None}, "Assess the risk first."),
        (S.RECEIVED, S.ASSESSED, {"level": RiskLevel.RISK}, None),
        (S.RECEIVED, S.NOTIFIED, {"level": RiskLevel.RISK, "filed": True}, "cannot become notified"),
        (S.ASSESSED, S.NOTIFIED, {"level": RiskLevel.RISK}, "Record the initial notification"),
        (S.ASSESSED, S.NOTIFIED, {"level": RiskLevel.RISK, "filed": True}, None),
        (S.ASSESSED, S.NOT_NOTIFIABLE, {"level": RiskLevel.RISK}, "must be notified"),
        (S.ASSESSED, S.NOT_NOTIFIABLE, {"level": RiskLevel.NONE}, None),
        (S.NOTIFIED, S.CLOSED, {"level": RiskLevel.HIGH}, "The risk is high"),
        (S.NOTIFIED, S.CLOSED, {"level": RiskLevel.HIGH, "subjects_settled": True}, None),
        (S.NOTIFIED, S.CLOSED, {"level": RiskLevel.RISK}, None),
        (S.CLOSED, S.ASSESSED, {"level": RiskLevel.RISK}, "Say why the breach is reopened."),
        (S.CLOSED, S.ASSESSED, {"level": RiskLevel.RISK, "reason": "New facts"}, None),
        (S.CLOSED, S.NOTIFIED, {"level": RiskLevel.RISK, "filed": True}, "cannot become notified"),
    ],
)
def test_the_state_machine_allows_and_refuses_with_reasons(status, to, kwargs, problem):
    found = rules.transition_problem(status=status, to=to, **kwargs)
    assert (found is None) if problem is None else (problem in found)


def test_the_72_hours_are_elapsed_time_across_the_spring_and_autumn_changes():
    spring = dt.datetime(2026, 3, 27, 10, 0, tzinfo=BRUSSELS)  # CET; clocks go forward on 29 March
    due = rules.notification_due_at(spring, hours=72).astimezone(BRUSSELS)
    assert (due.day, due.hour) == (30, 11)  # 72 h later, an hour later on the wall clock
    assert due.astimezone(dt.UTC) - spring.astimezone(dt.UTC) == dt.timedelta(hours=72)
    autumn = dt.datetime(2026, 10, 23, 10, 0, tzinfo=BRUSSELS)  # CEST; clocks go back on 25 October
    due = rules.notification_due_at(autumn, hours=72).astimezone(BRUSSELS)
    assert (due.day, due.hour) == (26, 9)
    # A 96-hour setting (the pending EU proposal) moves the deadline by as many hours.
    assert rules.notification_due_at(autumn, hours=96) - autumn.astimezone(dt.UTC) == dt.timedelta(hours=96)
    # Part 2: 21 calendar days later at the same time of day on the register's clock.
    part1 = dt.datetime(2026, 3, 20, 15, 0, tzinfo=BRUSSELS)
    part2 = rules.complement_due_at(part1, days=21, tz="Europe/Brussels").astimezone(BRUSSELS)
    assert (part2.date(), part2.hour) == (dt.date(2026, 4, 10), 15)
    with pytest.raises(ValueError):
        rules.notification_due_at(dt.datetime(2026, 1, 1), hours=72)


def test_risk_levels_from_likelihood_and_severity():
    assert rules.risk_level(likelihood=1, severity=1) == RiskLevel.NONE
    assert rules.risk_level(likelihood=1, severity=4) == RiskLevel.RISK  # very severe is never no risk
    assert rules.risk_level(likelihood=2, severity=2) == RiskLevel.RISK
    assert rules.risk_level(likelihood=3, severity=3) == RiskLevel.HIGH
    with pytest.raises(ValueError):
        rules.risk_level(likelihood=0, severity=5)


def _world():
    activity = ProcessingActivityFactory(reference="BR-01")
    other = ProcessingActivityFactory(reference="BR-02", controller=activity.controller)
    contact = DataCategoryFactory(code="br-contact")
    health = DataCategoryFactory(code="br-health", special_category=True)
    return activity, other, contact, health


def _record(activity, category, n, system="crm", subject=None):
    return record_register(
        subject=subject or DataSubjectFactory(controller=activity.controller),
        activity=activity,
        data_category=category,
        source_system=system,
        external_id=f"br-{activity.pk}-{n}",
        payload={"name": f"Person {n}"},
        dates={"collected_on": timezone.localdate()},
    )


@pytest.mark.django_db
def test_a_breach_from_report_to_closure_holds_its_evidence_and_releases_it(dpo):
    activity, other, contact, health = _world()
    person = DataSubjectFactory(controller=activity.controller)
    _record(activity, contact, 1, subject=person)
    _record(activity, health, 2, subject=person)
    _record(other, contact, 3, system="erp")
    aware = timezone.now() - dt.timedelta(hours=80)
    breach, created = services.breach_report(
        controller=activity.controller,
        title="Laptop lost",
        aware_at=aware,
        natures=["confidentiality"],
        external_reference="SIEM-1",
        reported_by="siem",
    )
    assert created and breach.notification_due_at == aware + dt.timedelta(hours=72)
    again, created = services.breach_report(
        controller=activity.controller, title="x", aware_at=aware, external_reference="SIEM-1"
    )
    assert (again.pk, created) == (breach.pk, False)

    scope = services.breach_scope_compute(breach=breach, criteria={"source_systems": ["crm"]})
    assert scope.counts["records"] == 2 and scope.counts["subjects"] == 1
    assert scope.counts["per_category"] == {
        "br-contact": {"records": 1, "subjects": 1},
        "br-health": {"records": 1, "subjects": 1},
    }
    assert scope.counts["special_categories"] == ["br-health"] and scope.counts["activities"] == ["BR-01"]
    assert list(selectors.scope_subjects(scope)) == [person]
    assert "Person" not in str(scope.counts) and person.key not in str(scope.criteria)  # no identifier kept
    with pytest.raises(ValidationError):
        services.breach_scope_correct(scope=scope, note="", subjects_min=1)
    services.breach_scope_correct(scope=scope, note="Backups too", subjects_min=1, subjects_max=40)

    holds = services.breach_hold_evidence(breach=breach, actor=dpo)
    assert [h.activity_id for h in holds] == [activity.pk] and holds[0].released_at is None
    assert services.breach_hold_evidence(breach=breach, actor=dpo) == []  # already held

    with pytest.raises(ValidationError) as error:
        services.breach_file(breach=breach, phase="initial", filed_at=timezone.now(), channel="APD portal")
    assert "give the reasons for the delay" in str(error.value)  # 80 h after awareness
    services.breach_assess(breach=breach, likelihood=3, severity=3, consequences="Health data may be read")
    second = services.breach_assess(breach=breach, likelihood=3, severity=4, encrypted=False)
    assert second.version == 2 and second.level == RiskLevel.HIGH
    with pytest.raises(ValidationError):
        services.breach_file(breach=breach, phase="complementary", filed_at=timezone.now(), channel="APD portal")
    services.breach_file(
        breach=breach,
        phase="initial",
        filed_at=timezone.now(),
        channel="APD portal",
        reference="DBN-2026-1",
        late_reason="The loss was reported by the employee only after the weekend",
    )
    breach.refresh_from_db()
    assert breach.status == S.NOTIFIED and services.complement_due_at(breach) is not None
    with pytest.raises(ValidationError) as error:
        services.breach_close(breach=breach)
    assert "The risk is high" in str(error.value)
    services.breach_waive(breach=breach, ground="protected", justification="The disk was encrypted (BitLocker)")
    services.breach_file(breach=breach, phase="complementary", filed_at=timezone.now(), channel="APD portal")
    assert services.complement_due_at(breach) is None
    services.breach_close(breach=breach, actor=dpo)
    breach.refresh_from_db()
    assert breach.status == S.CLOSED and breach.closed_at
    assert LegalHold.objects.get(pk=holds[0].pk).released_at is not None
    with pytest.raises(ValidationError):
        services.breach_reopen(breach=breach, reason=" ")
    reopened = services.breach_reopen(breach=breach, reason="A second laptop")
    assert reopened.status == S.ASSESSED and reopened.reopen_reasons.endswith(": A second laptop")


@pytest.mark.django_db
def test_bad_reports_are_refused_naming_the_field():
    activity, *_ = _world()
    for kwargs, field in (
        ({"aware_at": dt.datetime(2026, 1, 1)}, "aware_at"),
        ({"aware_at": timezone.now() + dt.timedelta(days=1)}, "aware_at"),
        ({"natures": ["secrecy"]}, "natures"),
        ({"title": " "}, "title"),
    ):
        with pytest.raises(ValidationError) as error:
            services.breach_report(
                controller=activity.controller, **{"title": "t", "aware_at": timezone.now(), **kwargs}
            )
        assert field in error.value.message_dict


class ScopeCountsEqualTheRecords(TestCase):
    """Whatever records exist, the scope's counts are what the records say for the criteria chosen."""

    @settings(max_examples=15, deadline=None)
    @given(
        rows=st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from(["crm", "erp"]), st.integers(0, 3)),
            max_size=12,
        ),
        systems=st.sets(st.sampled_from(["crm", "erp"])),
    )
    def test_counts(self, rows, systems):
        activities, categories = list(_world()[:2]), list(_world()[2:])
        people = [DataSubjectFactory(controller=activities[0].controller) for _ in range(4)]
        for n, (a, c, system, p) in enumerate(rows):
            _record(activities[a], categories[c], n, system=system, subject=people[p])
        breach, _ = services.breach_report(controller=activities[0].controller, title="t", aware_at=timezone.now())
        scope = services.breach_scope_compute(breach=breach, criteria={"source_systems": sorted(systems)})
        chosen = [r for r in rows if not systems or r[2] in systems]
        assert scope.counts["records"] == len(chosen)
        assert scope.counts["subjects"] == len({r[3] for r in chosen})


@pytest.mark.django_db
def test_the_communication_draft_is_plain_language_in_three_languages_and_names_no_one():
    activity, _other, _contact, health = _world()
    controller = activity.controller
    controller.dpo_email, controller.supervisory_authority = "dpo@example.be", "Gegevensbeschermingsautoriteit"
    controller.save()
    person = DataSubjectFactory(controller=controller, identifiers={"email": "jan.peeters@example.be"})
    _record(activity, health, 1, subject=person)
    breach, _ = services.breach_report(
        controller=controller,
        title="Jan's file mailed to the wrong address",
        aware_at=timezone.now(),
        natures=["confidentiality"],
        description="Jan Peeters' file went to a neighbour",
    )
    services.breach_scope_compute(breach=breach, criteria={})
    services.breach_assess(
        breach=breach,
        likelihood=3,
        severity=3,
        consequences="Health data may be known to others.",
        mitigations="The letter was collected back unopened.",
    )
    words = {"en": "What you can do", "nl": "Wat u kunt doen", "fr": "Ce que vous pouvez faire"}
    for language, heading in words.items():
        text = selectors.communication_draft(breach, language)
        assert heading in text and "dpo@example.be" in text and "Gegevensbeschermingsautoriteit" in text
        assert "Health data may be known to others." in text and "collected back unopened" in text
        assert health.localized("name", language) in text  # the category, in the reader's language
        for identifier in ("jan.peeters@example.be", person.key, "Jan", "neighbour"):
            assert identifier not in text, (language, identifier)
    saved = services.breach_communication_save(
        breach=breach, language="nl", text=selectors.communication_draft(breach, "nl")
    )
    again = services.breach_communication_save(
        breach=breach, language="nl", text=saved.text + "\nMet vriendelijke groet"
    )
    assert (saved.version, again.version) == (1, 2)

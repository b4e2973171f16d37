"""When the sweep erases the last record of a person, the person is forgotten in the same transaction: the
identifiers and the free text of their consents and requests go, set-based; the pseudonymous key and the
proof that their requests were handled stay. While anything of the person is kept, nothing is cleared."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processing.choices import LegalBasis
from retention import requests as request_execution
from retention.services import legal_hold_place, legal_hold_release, retention_enforce
from ropa.audit.models import AuditEvent
from subjects import services
from subjects.models import ConsentRecord, DataSubject, DataSubjectRequest, DataSubjectRequestEvent
from tests.factories import DataSubjectFactory, PurposeFactory
from tests.support.records import NOW

pytestmark = pytest.mark.django_db

LATER = NOW + dt.timedelta(days=31)


def person(world, n=0):
    return DataSubjectFactory(controller=world.controller, key=f"p-{n}", identifiers={"email": f"p{n}@example.be"})


def with_history(world, subject):
    """A consent (with its evidence) and a closed access request (with the DPO's words) for ``subject``."""
    purpose = PurposeFactory(activity=world.activity, legal_basis=LegalBasis.CONSENT)
    consent = services.consent_record(
        subject=subject,
        purpose=purpose,
        given_at=timezone.now() - dt.timedelta(days=400),
        source="web form of Jan",
        evidence="Jan ticked: yes, mail me",
    )
    request_execution.consent_withdraw(consent=consent, source="phone call of Jan")
    request = services.dsr_receive(
        controller=world.controller, subject=subject, type="access", source="letter of Jan", note="Jan asks all"
    )
    services.dsr_extend(request=request, months=1, reason="Jan sent three letters", actor=None)
    services.dsr_identity_verify(request=request, actor=None, reason="Jan's identity card seen")
    request_execution.dsr_complete(request=request, actor=None, reason="Sent to Jan")
    return consent, request


def test_the_sweep_forgets_a_person_in_the_batch_that_erases_their_last_record(world):
    world.rule(action="delete", grace_days=0)
    subject = person(world)
    records = [world.record(subject=subject) for _ in range(3)]
    consent, request = with_history(world, subject)
    # Two records per batch, one batch per run: the first run erases two of the three.
    first = retention_enforce(now=NOW, batch_size=2, max_batches=3)
    assert first.deleted == 2 and first.status == "partial"
    assert DataSubject.objects.get(pk=subject.pk).identifiers == {"email": "p0@example.be"}
    assert ConsentRecord.objects.get(pk=consent.pk).evidence == "Jan ticked: yes, mail me"
    second = retention_enforce(now=NOW, batch_size=2)
    assert second.deleted == 1 and not DataSubject.objects.get(pk=subject.pk).records.exists()
    forgotten = DataSubject.objects.get(pk=subject.pk)
    assert (forgotten.key, forgotten.identifiers) == ("p-0", {})
    consent = ConsentRecord.objects.get(pk=consent.pk)
    assert (consent.source, consent.evidence, consent.withdrawal_source) == ("", "", "")
    assert consent.given_at and consent.withdrawn_at and consent.purpose_id  # the proof of consent stays
    request = DataSubjectRequest.objects.get(pk=request.pk)
    assert (request.source, request.note, request.extension_reason) == ("", "", "")
    assert (request.type, request.status, request.extension_months) == ("access", "completed", 1)
    assert set(DataSubjectRequestEvent.objects.filter(request=request).values_list("reason", flat=True)) == {""}
    assert list(DataSubjectRequestEvent.objects.filter(request=request).values_list("kind", flat=True)) == [
        "received",
        "extended",
        "identity_verified",
        "completed",
    ]
    event = AuditEvent.objects.get(object_type="subjects.datasubject", action="erasure")
    assert "identifiers" in event.changed_fields and event.changes == {"subjects": [subject.pk]}
    assert "Jan" not in str(event.__dict__) and "p0@" not in str(event.__dict__)
    assert len(records) == 3


def test_a_person_with_a_record_left_keeps_everything(world, dpo):
    world.rule(action="anonymise", grace_days=0)
    subject = person(world)
    world.record(subject=subject)
    kept = world.record(subject=subject, collected_on=dt.date(2030, 1, 1))  # expires in 2031
    consent, request = with_history(world, subject)
    assert retention_enforce(now=NOW).anonymised == 1
    assert DataSubject.objects.get(pk=subject.pk).identifiers == {"email": "p0@example.be"}
    assert ConsentRecord.objects.get(pk=consent.pk).evidence == "Jan ticked: yes, mail me"
    assert DataSubjectRequest.objects.get(pk=request.pk).note == "Jan asks all"
    # A hold on the person keeps them too, even once the last record has gone.
    hold = legal_hold_place(subject=subject, reason="Litigation", actor=dpo)
    assert retention_enforce(now=NOW + dt.timedelta(days=800)).anonymised == 0
    legal_hold_release(hold=hold, actor=dpo)
    assert retention_enforce(now=NOW + dt.timedelta(days=800)).anonymised == 1
    assert not DataSubject.objects.get(pk=subject.pk).records.exclude(status="erased").exists()
    assert DataSubject.objects.get(pk=subject.pk).identifiers == {}
    assert kept.pk


def test_forgetting_is_set_based_whatever_the_number_of_people(world):
    world.rule(action="delete", grace_days=0)

    def sweep_queries(n, offset):
        for i in range(n):
            world.record(subject=person(world, offset + i))
        before = DataSubject.objects.filter(identifiers={}).count()
        with CaptureQueriesContext(connection) as queries:
            run = retention_enforce(now=NOW)
        assert run.deleted == n
        assert DataSubject.objects.filter(identifiers={}).count() == before + n
        return len(queries)

    assert sweep_queries(3, 0) == sweep_queries(30, 100)

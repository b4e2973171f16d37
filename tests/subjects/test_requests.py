"""Data-subject requests through the services: deadlines as they move, each type executed, erasure
honouring holds and statutory minima through the sweep's eraser, consent withdrawal moving expiry."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from retention import requests as request_execution
from retention.models import ErasureNotice, RetentionRun, Tombstone
from retention.selectors import tombstone_chain_problems
from retention.services import legal_hold_place
from subjects import services
from subjects.choices import RecordStatus, RequestEventKind, RequestStatus
from subjects.models import ConsentRecord, DataSubject, DataSubjectRequest, PersonalDataRecord
from tests.factories import ControllerFactory, DataSubjectFactory

pytestmark = pytest.mark.django_db


def receive(people, type_, *, received_on=None, dpo=None, verified=None):
    """A request filed for the person; an erasure's requester verified unless ``verified`` says otherwise."""
    request = services.dsr_receive(
        controller=people.controller, subject=people.person, type=type_, received_on=received_on, actor=dpo
    )
    if verified if verified is not None else type_ == "erasure":
        request = services.dsr_identity_verify(request=request, actor=dpo)
    return request


def test_received_request_is_due_one_calendar_month_later_and_logged(people, dpo):
    request = receive(people, "access", received_on=dt.date(2024, 1, 31), dpo=dpo)
    assert request.due_on == dt.date(2024, 2, 29)
    event = request.events.get()
    assert (event.kind, event.to_status, event.actor, event.actor_label) == ("received", "received", dpo, "dpo")


def test_identity_check_pauses_the_clock_and_the_paused_days_move_the_deadline(people, dpo):
    today = timezone.localdate()
    request = receive(people, "access", received_on=today - dt.timedelta(days=3))
    due = request.due_on
    request = services.dsr_identity_request(request=request, actor=dpo, today=today - dt.timedelta(days=2))
    assert request.status == RequestStatus.AWAITING_IDENTITY and request.days_left() is None
    assert not DataSubjectRequest.objects.overdue(today + dt.timedelta(days=100)).exists()  # paused: never overdue
    with pytest.raises(ValidationError) as error:
        request_execution.dsr_complete(request=request, actor=dpo)
    assert "status" in error.value.message_dict
    request = services.dsr_identity_verify(request=request, actor=dpo)
    assert (request.status, request.paused_days, request.due_on) == (
        RequestStatus.IN_PROGRESS,
        2,
        due + dt.timedelta(days=2),
    )
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds == ["received", "identity_requested", "identity_verified"]
    assert request.events.last().detail == {"paused_days": 2, "due_on": request.due_on.isoformat()}


def test_extension_adds_months_up_to_two_with_a_reason(people, dpo):
    request = receive(people, "erasure", received_on=timezone.localdate())
    received = request.received_on
    request = services.dsr_extend(request=request, months=1, reason="Many systems to search", actor=dpo)
    request = services.dsr_extend(request=request, months=1, reason="Archive tapes", actor=dpo)
    assert request.extension_months == 2
    assert request.due_on == services.rules.request_due_on(received_on=received, extension_months=2)
    assert request.extension_reason == "Many systems to search\nArchive tapes"
    with pytest.raises(ValidationError) as error:
        services.dsr_extend(request=request, months=1, reason="More", actor=dpo)
    assert "months" in error.value.message_dict
    assert DataSubjectRequest.objects.get(pk=request.pk).extension_months == 2


def test_closed_request_refuses_every_step(people, dpo):
    request = services.dsr_reject(request=receive(people, "access"), reason="Manifestly unfounded", actor=dpo)
    assert request.rejection_reason == "Manifestly unfounded"
    for step in (
        lambda: request_execution.dsr_complete(request=request, actor=dpo),
        lambda: services.dsr_reject(request=request, reason="again", actor=dpo),
        lambda: services.dsr_extend(request=request, months=1, reason="x", actor=dpo),
        lambda: services.dsr_identity_verify(request=request, actor=dpo),
    ):
        with pytest.raises(ValidationError) as error:
            step()
        assert "status" in error.value.message_dict


def test_reject_needs_a_reason(people, dpo):
    with pytest.raises(ValidationError) as error:
        services.dsr_reject(request=receive(people, "access"), reason="  ", actor=dpo)
    assert "reason" in error.value.message_dict


def test_subject_of_another_controller_is_refused(people):
    stranger = DataSubjectFactory(controller=ControllerFactory())
    with pytest.raises(ValidationError) as error:
        services.dsr_receive(controller=people.controller, subject=stranger, type="access")
    assert "subject" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.dsr_receive(controller=people.controller, subject=people.person, type="forget-me")
    assert "type" in error.value.message_dict
    assert not DataSubjectRequest.objects.exists()


def test_erasure_erases_through_the_sweep_eraser_and_keeps_what_law_and_holds_keep(people, dpo):
    hold = legal_hold_place(reason="Dispute about ticket TCK-1", actor=dpo, record=people.ticket)
    other = people.record(people.service, people.contact, "TCK-2", last_contact_on=dt.date(2025, 2, 1))
    request = request_execution.dsr_complete(request=receive(people, "erasure"), actor=dpo)
    assert request.status == RequestStatus.COMPLETED
    erased = {line["record"]: line for line in request.outcome["erased"]}
    kept = {line["record"]: line["reason"] for line in request.outcome["kept"]}
    # The newsletter record is deleted, the second ticket anonymised (its rule says so).
    assert set(erased) == {people.mailing.pk, other.pk}
    assert erased[people.mailing.pk]["action"] == "delete" and erased[other.pk]["action"] == "anonymise"
    assert not PersonalDataRecord.objects.filter(pk=people.mailing.pk).exists()
    anonymised = PersonalDataRecord.objects.get(pk=other.pk)
    assert (anonymised.status, anonymised.payload, anonymised.subject_id) == (RecordStatus.ERASED, None, None)
    # The invoice: the statutory 7 years after the financial year end have not run; the ticket: the hold.
    assert "until 2031-12-31" in kept[people.invoice.pk] and "Invoices" in kept[people.invoice.pk]
    # A hold is named by its id only: its reason is the DPO's, and system and auditor tokens read outcomes.
    assert kept[people.ticket.pk] == f"legal hold #{hold.pk}"
    assert [line["legal_holds"] for line in request.outcome["kept"] if line["record"] == people.ticket.pk] == [
        [hold.pk]
    ]
    assert "Dispute" not in str(request.outcome) and "Dispute" not in str(list(request.events.values()))
    # Something is kept, so the person's identifiers stay, and the outcome says what keeps them.
    assert request.outcome["subject"] == {
        "identifiers": "kept",
        "kept_for": {"records": [people.invoice.pk, people.ticket.pk], "legal_holds": []},
    }
    assert DataSubject.objects.get(pk=people.person.pk).identifiers == {"email": "an@example.be"}
    assert PersonalDataRecord.objects.get(pk=people.invoice.pk).payload is not None
    # Evidence as the sweep leaves it: a run, tombstones in one verified chain, feed lines.
    run = RetentionRun.objects.get(pk=request.outcome["run"])
    assert (run.origin, run.deleted, run.anonymised, run.skipped_for_hold) == ("request", 1, 1, 1)
    assert run.counts[str(people.ticket.expiry_rule_id)] == {"anonymise": 1, "hold": 1}
    assert set(Tombstone.objects.values_list("record_id", flat=True)) == {people.mailing.pk, other.pk}
    assert list(tombstone_chain_problems()) == []
    assert set(ErasureNotice.objects.values_list("external_id", flat=True)) == {"NL-1", "TCK-2"}
    # No personal data in the outcome or the log.
    assert "An Peeters" not in str(request.outcome) and "an@example.be" not in str(request.outcome)
    assert request.events.last().detail == {"erased": 2, "kept": 2, "subject": request.outcome["subject"]}


def test_erasure_with_nothing_kept_forgets_the_person_and_the_package_hands_out_nothing(people, dpo):
    """A person with no statutory record and no hold: after the erasure nothing identifies them any more."""
    import io
    import json
    import zipfile

    from subjects.selectors import subject_package_zip

    other = DataSubjectFactory(controller=people.controller, key="p-2", identifiers={"email": "bo@example.be"})
    people.record(people.newsletter, people.contact, "NL-2", subject=other, collected_on=dt.date(2024, 5, 1))
    people.record(people.service, people.contact, "TCK-9", subject=other, last_contact_on=dt.date(2025, 2, 1))
    consent = services.consent_record(
        subject=other,
        purpose=people.newsletter_purpose,
        given_at=timezone.now(),
        source="form of Bo",
        evidence="Bo ticked the box",
    )
    earlier = services.dsr_receive(
        controller=people.controller, subject=other, type="access", note="Bo asks what we hold", actor=dpo
    )
    request_execution.dsr_complete(
        request=earlier, actor=dpo, reason="Package mailed to Bo", identity_override="Bo came to the desk"
    )
    erasure = services.dsr_receive(
        controller=people.controller, subject=other, type="erasure", note="Bo wants out", actor=dpo
    )
    erasure = services.dsr_identity_verify(request=erasure, actor=dpo, reason="Bo's ID card seen")
    done = request_execution.dsr_complete(request=erasure, actor=dpo, reason="Done for Bo")
    assert done.outcome["subject"] == {"identifiers": "cleared"} and done.outcome["kept"] == []
    forgotten = DataSubject.objects.get(pk=other.pk)
    assert (forgotten.key, forgotten.identifiers) == ("p-2", {})
    consent = ConsentRecord.objects.get(pk=consent.pk)
    assert (consent.source, consent.evidence, consent.given_at is not None) == ("", "", True)
    for request in DataSubjectRequest.objects.filter(subject=other):
        assert (request.note, request.source, request.status) == ("", "", "completed")
        assert set(request.events.values_list("reason", flat=True)) == {""}
    assert [e.kind for e in DataSubjectRequest.objects.get(pk=erasure.pk).events.all()] == [
        "received",
        "identity_verified",
        "completed",
    ]
    # The other person of the controller is untouched.
    assert DataSubject.objects.get(pk=people.person.pk).identifiers == {"email": "an@example.be"}
    # An access request filed afterwards gets a package with nothing of the person in it.
    with zipfile.ZipFile(io.BytesIO(subject_package_zip(forgotten))) as archive:
        package = json.loads(archive.read("package.json"))
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert package["subject"]["identifiers"] == {} and package["records"] == []
    for personal in (b"bo@example.be", b"Bo ", b"An Peeters"):
        assert personal not in everything


def test_erasure_under_a_subject_hold_keeps_the_identifiers_and_names_the_hold(people, dpo):
    hold = legal_hold_place(reason="Litigation with the person", actor=dpo, subject=people.person)
    request = request_execution.dsr_complete(request=receive(people, "erasure"), actor=dpo)
    assert request.outcome["subject"]["identifiers"] == "kept"
    assert request.outcome["subject"]["kept_for"]["legal_holds"] == [hold.pk]
    assert "Litigation" not in str(request.outcome)
    assert DataSubject.objects.get(pk=people.person.pk).identifiers == {"email": "an@example.be"}


def test_erasure_takes_records_whose_statutory_minimum_has_run_out(people, dpo):
    old = people.record(
        people.billing, people.invoices, "INV-OLD", last_invoice_financial_year_end=dt.date(2010, 12, 31)
    )
    request = request_execution.dsr_complete(request=receive(people, "erasure"), actor=dpo)
    erased = {line["record"] for line in request.outcome["erased"]}
    assert old.pk in erased and people.invoice.pk not in erased


def test_erasure_never_erases_under_a_subject_hold(people, dpo):
    legal_hold_place(reason="Litigation", actor=dpo, subject=people.person)
    request = request_execution.dsr_complete(request=receive(people, "erasure"), actor=dpo)
    assert request.outcome["erased"] == []
    assert PersonalDataRecord.objects.filter(subject=people.person).count() == 3
    assert all(
        line["reason"].startswith("legal hold #") or "statutory" in line["reason"] for line in request.outcome["kept"]
    )


def test_consent_withdrawal_moves_expiry_of_the_purpose_records(people, dpo):
    assert people.mailing.expires_at is None  # waits for the withdrawal
    consent = services.consent_record(
        subject=people.person,
        purpose=people.newsletter_purpose,
        given_at=timezone.now() - dt.timedelta(days=30),
        source="web form",
        evidence="I want the newsletter",
        evidence_version="v3",
        actor=dpo,
    )
    withdrawn_at = timezone.now() - dt.timedelta(days=1)
    consent, changed = request_execution.consent_withdraw(consent=consent, withdrawn_at=withdrawn_at, actor=dpo)
    mailing = PersonalDataRecord.objects.get(pk=people.mailing.pk)
    day = timezone.localtime(withdrawn_at).date()
    assert mailing.consent_withdrawn_on == day
    assert timezone.localtime(mailing.expires_at).date() == day + dt.timedelta(days=1)
    assert changed == [{"record": mailing.pk, "expires_at": mailing.expires_at.astimezone(dt.UTC).isoformat()}]
    # The other activities' records did not move.
    assert PersonalDataRecord.objects.get(pk=people.ticket.pk).consent_withdrawn_on is None
    with pytest.raises(ValidationError) as error:
        request_execution.consent_withdraw(consent=consent, actor=dpo)
    assert "withdrawn_at" in error.value.message_dict


def test_consent_to_a_purpose_not_resting_on_consent_is_refused(people):
    purpose = people.billing.purposes.get()
    with pytest.raises(ValidationError) as error:
        services.consent_record(subject=people.person, purpose=purpose, given_at=timezone.now(), source="form")
    assert "purpose" in error.value.message_dict
    assert not ConsentRecord.objects.exists()


def test_consent_withdrawal_request_withdraws_every_consent_in_force(people, dpo):
    consent = services.consent_record(
        subject=people.person, purpose=people.newsletter_purpose, given_at=timezone.now(), source="app"
    )
    request = request_execution.dsr_complete(request=receive(people, "consent_withdrawal"), actor=dpo)
    assert request.outcome["consents_withdrawn"] == [consent.pk]
    assert ConsentRecord.objects.get(pk=consent.pk).withdrawn_at is not None
    assert PersonalDataRecord.objects.get(pk=people.mailing.pk).consent_withdrawn_on == timezone.localdate()


def test_objection_ends_marketing_processing_only(people, dpo):
    request = request_execution.dsr_complete(request=receive(people, "objection"), actor=dpo)
    mailing = PersonalDataRecord.objects.get(pk=people.mailing.pk)
    assert mailing.consent_withdrawn_on == timezone.localdate() and mailing.relevance_ended_on == timezone.localdate()
    assert mailing.expires_at is not None
    assert request.outcome["marketing_records"] == [
        {"record": mailing.pk, "expires_at": mailing.expires_at.astimezone(dt.UTC).isoformat()}
    ]
    ticket = PersonalDataRecord.objects.get(pk=people.ticket.pk)
    assert ticket.consent_withdrawn_on is None and ticket.relevance_ended_on is None


def test_restriction_marks_records_until_the_dpo_lifts_it(people, dpo):
    request = request_execution.dsr_complete(
        request=receive(people, "restriction"), actor=dpo, records=[people.ticket.pk, people.invoice.pk]
    )
    assert request.outcome["restricted"] == sorted([people.ticket.pk, people.invoice.pk])
    assert set(PersonalDataRecord.objects.restricted().values_list("pk", flat=True)) == {
        people.ticket.pk,
        people.invoice.pk,
    }
    lifted = services.dsr_restriction_lift(request=request, actor=dpo, reason="Accuracy confirmed")
    assert sorted(lifted) == sorted([people.ticket.pk, people.invoice.pk])
    assert not PersonalDataRecord.objects.restricted().exists()
    assert request.events.last().kind == RequestEventKind.RESTRICTION_LIFTED


def test_restriction_of_records_not_the_subjects_is_refused(people, dpo):
    stranger = people.record(
        people.service, people.contact, "TCK-X", subject=DataSubjectFactory(controller=people.controller)
    )
    with pytest.raises(ValidationError) as error:
        request_execution.dsr_complete(request=receive(people, "restriction"), actor=dpo, records=[stranger.pk])
    assert "records" in error.value.message_dict
    assert not PersonalDataRecord.objects.restricted().exists()
    assert DataSubjectRequest.objects.get().status == RequestStatus.RECEIVED


def test_rectification_records_field_names_only(people, dpo, caplog):
    request = request_execution.dsr_complete(
        request=receive(people, "rectification"), actor=dpo, fields=["email", "address"]
    )
    assert request.outcome == {"type": "rectification", "fields": ["email", "address"]}
    assert request.events.last().detail == {"fields": ["email", "address"]}
    with pytest.raises(ValidationError) as error:
        request_execution.dsr_complete(request=receive(people, "rectification"), actor=dpo, fields=["an@example.be"])
    assert "fields" in error.value.message_dict
    assert "an@example.be" not in caplog.text

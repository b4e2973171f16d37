"""The DPO's admin: requests by urgency with days left, the deadline and controller filters the dashboard
links to, each step as a button, the package download, consents recorded and withdrawn."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from subjects import services
from subjects.models import ConsentRecord, DataSubjectRequest, PersonalDataRecord
from tests.factories import DataSubjectFactory, ProcessingActivityFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:subjects_datasubjectrequest_changelist"


def file(people, days_ago, *, subject=None, controller=None, type_="access"):
    return services.dsr_receive(
        controller=controller or people.controller,
        subject=subject or people.person,
        type=type_,
        received_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )


def ids(response):
    return [obj.pk for obj in response.context["cl"].result_list]


@pytest.mark.parametrize(
    "url",
    [
        "admin:subjects_datasubjectrequest_changelist",
        "admin:subjects_datasubjectrequest_add",
        "admin:subjects_consentrecord_changelist",
        "admin:subjects_consentrecord_add",
        "admin:subjects_personaldatarecord_changelist",
    ],
)
def test_pages_render(dpo_client, people, url):
    file(people, 3)
    assert dpo_client.get(reverse(url)).status_code == 200


def test_changelist_is_sorted_by_urgency_and_filters_by_deadline_and_controller(dpo_client, people):
    later = file(people, 2)
    overdue = file(people, 45)
    soon = file(people, 27)
    closed = services.dsr_reject(request=file(people, 50), reason="Unfounded", actor=None)
    other = ProcessingActivityFactory().controller
    foreign = file(people, 40, controller=other, subject=DataSubjectFactory(controller=other))
    url = reverse(CHANGELIST)
    response = dpo_client.get(url)
    assert ids(response) == [overdue.pk, foreign.pk, soon.pk, later.pk, closed.pk]
    assert "overdue" in response.content.decode()
    assert ids(dpo_client.get(url + "?deadline=overdue")) == [overdue.pk, foreign.pk]
    assert ids(dpo_client.get(url + "?deadline=due7")) == [soon.pk]
    assert ids(dpo_client.get(url + f"?deadline=overdue&controller__id__exact={other.pk}")) == [foreign.pk]


def _add(dpo_client, people, **fields):
    data = {
        "controller": people.controller.pk,
        "person": "",
        "identifier_name": "email",
        "type": "erasure",
        "language": "nl",
        "received_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "source": "letter",
        "note": "",
        **fields,
    }
    return dpo_client.post(reverse("admin:subjects_datasubjectrequest_add"), data)


def test_add_request_in_the_admin_by_key_or_identifier_goes_through_the_service(dpo_client, people, dpo):
    for person in ("p-1", "  AN@example.BE "):  # the key, or an identifier, case and spaces aside
        response = _add(dpo_client, people, person=person)
        assert response.status_code == 302, response.context["adminform"].form.errors
    first, second = DataSubjectRequest.objects.order_by("pk")
    assert first.subject == second.subject == people.person
    assert first.language == "nl"
    assert first.due_on == services.rules.request_due_on(received_on=timezone.localdate() - dt.timedelta(days=1))
    assert first.events.get().actor == dpo


def test_a_request_names_an_unknown_or_ambiguous_person_as_an_error_and_files_for_a_new_one(dpo_client, people):
    DataSubjectFactory(controller=people.controller, key="p-2", identifiers={"email": "twin@example.be"})
    DataSubjectFactory(controller=people.controller, key="p-3", identifiers={"billing": "twin@example.be"})
    foreign = DataSubjectFactory(key="p-9", identifiers={"email": "far@example.be"})  # another controller's
    for person, message in (
        ("nobody@example.be", "No one at"),
        ("far@example.be", "No one at"),
        (foreign.key, "No one at"),
        ("twin@example.be", "2 people at"),
    ):
        response = _add(dpo_client, people, person=person)
        assert response.status_code == 200
        assert message in response.context["adminform"].form.errors["person"][0], person
    response = _add(dpo_client, people, person="an@example.be", new_person="on")
    assert "already knows this person" in response.context["adminform"].form.errors["new_person"][0]
    assert not DataSubjectRequest.objects.exists()

    response = _add(dpo_client, people, person="new@example.be", new_person="on", type="access")
    assert response.status_code == 302, response.context["adminform"].form.errors
    request = DataSubjectRequest.objects.get()
    assert (
        request.subject.identifiers == {"email": "new@example.be"} and request.subject.controller == people.controller
    )
    # The requester's identity is verified, then the access request says nothing is held.
    services.dsr_identity_verify(request=request, actor=None)
    action = reverse("admin:subjects_datasubjectrequest_action", args=[request.pk, "complete"])
    assert dpo_client.post(action, {"reason": ""}).status_code == 302
    page = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    assert "Nothing held" in page


def test_the_people_choices_are_the_controllers_own_and_show_identifiers_to_the_dpo(dpo_client, people):
    DataSubjectFactory(key="p-10", identifiers={"email": "an.other@example.be"})  # another controller's
    url = reverse("admin:subjects_datasubjectrequest_people")
    found = dpo_client.get(url, {"controller": people.controller.pk, "q": "an@"}).json()["results"]
    assert found == [{"value": "p-1", "label": "p-1 (email: an@example.be)"}]
    assert dpo_client.get(url, {"controller": people.controller.pk, "q": "p-"}).json()["results"][0]["value"] == "p-1"
    assert dpo_client.get(url, {"controller": people.controller.pk, "q": "a"}).json()["results"] == []  # too short
    assert dpo_client.get(url, {"controller": 0, "q": "an@"}).json()["results"] == []


def test_extend_button_refuses_beyond_two_months_naming_the_field(dpo_client, people):
    request = file(people, 3)
    url = reverse("admin:subjects_datasubjectrequest_action", args=[request.pk, "extend"])
    assert dpo_client.post(url, {"months": 2, "reason": "Complex"}).status_code == 302
    response = dpo_client.post(url, {"months": 1, "reason": "More"})
    assert response.status_code == 200
    assert "months" in response.context["form"].errors
    assert DataSubjectRequest.objects.get().extension_months == 2


def test_an_erasure_is_previewed_gated_on_identity_and_its_outcome_read_as_sentences(dpo_client, people):
    request = file(people, 3, type_="erasure")
    url = reverse("admin:subjects_datasubjectrequest_action", args=[request.pk, "complete"])
    form = dpo_client.get(url)
    page = form.content.decode()
    assert set(form.context["form"].fields) == {"reason", "confirm", "identity_override"}  # no rectified fields
    assert "cannot be undone" in page
    preview = form.context["preview"]
    assert preview[0] == "2 records will be erased."
    assert any("INV-1" not in line and "BIL-01" in line and "the law keeps it until" in line for line in preview)
    # Not confirmed, identity neither verified nor overridden: refused, nothing erased.
    response = dpo_client.post(url, {"reason": ""})
    assert set(response.context["form"].errors) == {"confirm", "identity_override"}
    assert PersonalDataRecord.objects.get(pk=people.ticket.pk).status == "active"
    override = "Known customer, called from the number on file"
    assert dpo_client.post(url, {"confirm": "on", "identity_override": override}).status_code == 302
    request.refresh_from_db()
    assert request.status == "completed" and request.identity_overridden_at is not None
    assert [e.kind for e in request.events.all()] == ["received", "identity_overridden", "completed"]
    assert PersonalDataRecord.objects.filter(pk=people.invoice.pk).exists()  # statutory minimum
    assert not PersonalDataRecord.objects.filter(pk=people.mailing.pk).exists()  # deleted
    assert PersonalDataRecord.objects.get(pk=people.ticket.pk).status == "erased"  # anonymised
    change = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk]))
    page = change.content.decode()
    assert "2 records erased." in page and "the law keeps it until 31/12/2031" in page
    assert "&quot;erased&quot;" not in page and "{'erased'" not in page  # no raw JSON, in the outcome or events
    assert 'name="_save"' not in page  # read-only
    # A second erasure request for the same person says what the first did.
    second = file(people, 0, type_="erasure")
    page = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[second.pk])).content.decode()
    assert f"already erased by request #{request.pk}" in page and "2 record(s) erased, 1 kept" in page


def test_package_button_waits_for_the_identity_and_downloads_the_zip(dpo_client, people):
    request = file(people, 3)
    change = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    package_url = reverse("admin:subjects_datasubjectrequest_package", args=[request.pk])
    assert package_url in change
    refused = dpo_client.get(package_url, follow=True)
    assert "identity has not been verified" in refused.content.decode()
    services.dsr_identity_verify(request=request, actor=None)
    response = dpo_client.get(package_url)
    assert response["Content-Type"] == "application/zip"
    package = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("package.json"))
    assert len(package["records"]) == 3


def test_consent_added_and_withdrawn_in_the_admin(dpo_client, people):
    now = timezone.localtime()
    response = dpo_client.post(
        reverse("admin:subjects_consentrecord_add"),
        {
            "subject": people.person.pk,
            "purpose": people.newsletter_purpose.pk,
            "given_at_0": (now - dt.timedelta(days=2)).strftime("%Y-%m-%d"),
            "given_at_1": "10:00:00",
            "source": "paper form",
            "evidence": "Signed form, box 3 ticked",
            "evidence_version": "2024-01",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    consent = ConsentRecord.objects.get()
    response = dpo_client.post(
        reverse("admin:subjects_consentrecord_changelist"),
        {"action": "withdraw_consents", "_selected_action": [consent.pk]},
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert PersonalDataRecord.objects.get(pk=people.mailing.pk).consent_withdrawn_on == timezone.localdate()


def test_consent_for_a_purpose_not_resting_on_consent_is_a_form_error(dpo_client, people):
    response = dpo_client.post(
        reverse("admin:subjects_consentrecord_add"),
        {
            "subject": people.person.pk,
            "purpose": people.billing.purposes.get().pk,
            "given_at_0": "2025-01-01",
            "given_at_1": "10:00:00",
            "source": "paper form",
        },
    )
    assert response.status_code == 200
    assert "purpose" in response.context["adminform"].form.errors
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    ("days", "shown", "tone"),
    [
        (-3, "Overdue by 3 day(s).", "error"),
        (0, "Due today: answer the request today.", "warning"),
        (5, "5 day(s) left to answer.", "warning"),
        (20, "20 day(s) left to answer.", "help"),
    ],
)
def test_a_request_s_deadline_is_an_error_when_overdue_and_a_warning_when_due(dpo_client, people, days, shown, tone):
    request = file(people, 0)
    DataSubjectRequest.objects.filter(pk=request.pk).update(due_on=timezone.localdate() + dt.timedelta(days=days))
    page = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    if tone == "help":
        assert f'<p class="help request-deadline">{shown}</p>' in page
    else:
        assert f'<ul class="messagelist request-deadline"><li class="{tone}">{shown}</li></ul>' in page
    listed = dpo_client.get(reverse(CHANGELIST)).content.decode()
    expected = {
        "error": '<strong class="overdue">3 overdue</strong>',
        "warning": f'<strong class="due">{"due today" if days == 0 else days}</strong>',
        "help": f'<td class="field-days_left_display">{days}</td>',
    }[tone]
    assert expected in listed


def test_a_filed_request_has_no_save_buttons_only_its_steps(dpo_client, people):
    request = file(people, 0)
    page = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page and 'name="_addanother"' not in page
    assert "request-identity-request" in page  # the steps stay
    services.dsr_reject(request=request, reason="Not a data-subject request.", actor=None)
    closed = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    assert 'name="_save"' not in closed and "request-identity-request" not in closed  # read-only, no steps left
    add = dpo_client.get(reverse("admin:subjects_datasubjectrequest_add")).content.decode()
    assert 'name="_save"' in add  # filing one still saves


def test_the_complete_form_asks_only_what_the_type_needs(dpo_client, people):
    def form(request):
        url = reverse("admin:subjects_datasubjectrequest_action", args=[request.pk, "complete"])
        return url, dpo_client.get(url).context["form"]

    rectification = file(people, 1, type_="rectification")
    url, shown = form(rectification)
    assert set(shown.fields) == {"reason", "fields_rectified"}  # no identity gate, no confirmation
    assert "fields_rectified" in dpo_client.post(url, {"reason": ""}).context["form"].errors
    assert dpo_client.post(url, {"fields_rectified": "email, address.street"}).status_code == 302
    assert DataSubjectRequest.objects.get(pk=rectification.pk).outcome["fields"] == ["email", "address.street"]

    restriction = file(people, 1, type_="restriction")
    url, shown = form(restriction)
    assert set(shown.fields) == {"reason", "records"}
    choices = dict(shown.fields["records"].choices)
    assert set(choices) == {people.invoice.pk, people.mailing.pk, people.ticket.pk}
    assert choices[people.invoice.pk].startswith(f"#{people.invoice.pk} BIL-01 · ")
    assert dpo_client.post(url, {"records": [people.ticket.pk]}).status_code == 302
    assert DataSubjectRequest.objects.get(pk=restriction.pk).outcome["restricted"] == [people.ticket.pk]
    page = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[restriction.pk])).content.decode()
    assert f"1 record restricted: #{people.ticket.pk}." in page

    access = file(people, 1)
    assert set(form(access)[1].fields) == {"reason", "identity_override"}

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


def test_add_request_in_the_admin_goes_through_the_service(dpo_client, people, dpo):
    received = timezone.localdate() - dt.timedelta(days=1)
    response = dpo_client.post(
        reverse("admin:subjects_datasubjectrequest_add"),
        {
            "controller": people.controller.pk,
            "subject": people.person.pk,
            "type": "erasure",
            "received_on": received.isoformat(),
            "source": "letter",
            "note": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    request = DataSubjectRequest.objects.get()
    assert request.due_on == services.rules.request_due_on(received_on=received)
    assert request.events.get().actor == dpo


def test_extend_button_refuses_beyond_two_months_naming_the_field(dpo_client, people):
    request = file(people, 3)
    url = reverse("admin:subjects_datasubjectrequest_action", args=[request.pk, "extend"])
    assert dpo_client.post(url, {"months": 2, "reason": "Complex"}).status_code == 302
    response = dpo_client.post(url, {"months": 1, "reason": "More"})
    assert response.status_code == 200
    assert "months" in response.context["form"].errors
    assert DataSubjectRequest.objects.get().extension_months == 2


def test_complete_erasure_button_and_the_outcome_on_the_page(dpo_client, people):
    request = file(people, 3, type_="erasure")
    url = reverse("admin:subjects_datasubjectrequest_action", args=[request.pk, "complete"])
    assert dpo_client.post(url, {"reason": ""}).status_code == 302
    request.refresh_from_db()
    assert request.status == "completed"
    assert PersonalDataRecord.objects.filter(pk=people.invoice.pk).exists()  # statutory minimum
    page = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    assert "until 2031-12-31" in page


def test_package_button_downloads_the_zip(dpo_client, people):
    request = file(people, 3)
    change = dpo_client.get(reverse("admin:subjects_datasubjectrequest_change", args=[request.pk])).content.decode()
    package_url = reverse("admin:subjects_datasubjectrequest_package", args=[request.pk])
    assert package_url in change
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

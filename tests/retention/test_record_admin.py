"""The record's page in the admin: a restricted record's dates are refused on the form (never a 500), and
a record without expiry says so."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from retention.requests import dsr_complete
from subjects.services import dsr_receive

pytestmark = pytest.mark.django_db


def page(record) -> str:
    return reverse("admin:subjects_personaldatarecord_change", args=[record.pk])


def test_a_restricted_records_dates_are_refused_in_the_admin(dpo_client, dpo, world):
    world.rule(trigger="contract_end")
    record = world.record()
    request = dsr_receive(controller=world.controller, subject=record.subject, type="restriction", actor=dpo)
    dsr_complete(request=request, actor=dpo)
    response = dpo_client.post(page(record), {"collected_on": "2020-01-01", "contract_ended_on": "2021-03-31"})
    assert response.status_code == 200, response.status_code
    assert f"restricted (Art. 18) by request #{request.pk}" in response.content.decode()
    record.refresh_from_db()
    assert (record.contract_ended_on, record.expires_at) == (None, None)


def test_a_record_without_expiry_is_shown_as_a_warning(dpo_client, world):
    world.rule(trigger="contract_end")
    record = world.record()
    response = dpo_client.get(page(record))
    warnings = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1 and "no expiry" in warnings[0] and "contract ended on" in warnings[0]
    # Saved with a date that gives it one, the warning goes.
    response = dpo_client.post(page(record), {"collected_on": "2020-01-01", "contract_ended_on": "2021-03-31"})
    assert response.status_code == 302
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    response = dpo_client.get(page(record))
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    # Saved without one, the changelist it returns to warns.
    response = dpo_client.post(page(record), {"collected_on": "2020-01-01", "contract_ended_on": ""})
    assert response.status_code == 302
    warnings = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1 and "no expiry" in warnings[0]

"""Records that no sweep will erase as things stand are shown, never silently kept: a dashboard figure
(with how many of them only a person can end) that links to the records list filtered on "expiry: none"."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from retention.services import record_register, rule_changed
from ropa.site.dashboard import FIGURES, dashboard
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory, RetentionRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    translation.activate("en")


@pytest.fixture
def scene():
    """One controller: a record kept "as long as needed" with nothing to end it, one whose contract still
    runs (a statutory minimum that has not started), one capped at 3 years of inactivity, one erased."""
    needed = ProcessingActivityFactory()
    controller = needed.controller
    RetentionRuleFactory(activity=needed, trigger="relevance_end", duration_value=None, duration_unit="", action="flag")
    contract = ProcessingActivityFactory(controller=controller)
    RetentionRuleFactory(activity=contract, trigger="contract_end", statutory=True)
    capped = ProcessingActivityFactory(controller=controller)
    RetentionRuleFactory(activity=capped, trigger="relevance_end", duration_value=None, duration_unit="", action="flag")
    RetentionRuleFactory(activity=capped, trigger="inactivity", duration_value=3, duration_unit="years", maximum=True)
    category = DataCategoryFactory()
    subject = DataSubjectFactory(controller=controller)

    def register(activity, external_id, **dates):
        return record_register(
            subject=subject,
            activity=activity,
            data_category=category,
            source_system="crm",
            external_id=external_id,
            dates=dates,
        )

    records = {
        "needed": register(needed, "n-1", collected_on=dt.date(2024, 1, 1)),
        "contract": register(contract, "c-1", collected_on=dt.date(2024, 1, 1)),
        "capped": register(capped, "m-1", last_activity_on=dt.date(2024, 1, 1)),
        "erased": register(needed, "n-2"),
    }
    PersonalDataRecord.objects.filter(pk=records["erased"].pk).update(status=RecordStatus.ERASED)
    return controller, records


def _cell(board, controller):
    index = [figure.key for figure in FIGURES].index("records_never_expiring")
    return dict(zip(board.controllers, board.rows[index][1], strict=True))[controller]


def test_the_dashboard_counts_the_records_no_sweep_will_erase_and_links_to_them(dpo, dpo_client, scene):
    controller, records = scene
    assert records["capped"].expires_at is not None
    translation.activate("en")
    cell = _cell(dashboard(user=dpo), controller)
    assert (cell.value, cell.tone) == (2, "warn")
    assert str(cell.note) == "1 under rules that no date ends"  # the contract's end will come
    response = dpo_client.get(cell.url)
    assert response.status_code == 200
    listed = {record.pk for record in response.context["cl"].queryset}
    assert listed == {records["needed"].pk, records["contract"].pk}
    index = dpo_client.get(reverse("admin:index")).content.decode()
    assert "Records that will never expire as things stand (no expiry date)" in index


def test_the_records_list_filters_on_expiry_none_or_set(dpo_client, scene):
    _controller, records = scene
    url = reverse("admin:subjects_personaldatarecord_changelist")
    response = dpo_client.get(url, {"expiry": "set"})
    assert {r.pk for r in response.context["cl"].queryset} == {records["capped"].pk}
    response = dpo_client.get(url, {"expiry": "none"})
    assert response.context["cl"].result_count == 2
    assert "none: never erased as things stand" in dpo_client.get(url).content.decode()


def test_a_maximum_takes_a_record_off_the_figure(dpo, scene):
    controller, records = scene
    RetentionRuleFactory(
        activity=records["needed"].activity, trigger="collection", duration_value=1, duration_unit="years", maximum=True
    )
    rule_changed(activity_id=records["needed"].activity_id)
    translation.activate("en")
    cell = _cell(dashboard(user=dpo), controller)
    assert (cell.value, cell.note) == (1, "")

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from processing.choices import ActivityStatus
from processing.models import ProcessingActivity
from processing.services import controller_save, processing_activity_end, processing_activity_save, recipient_save
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
)

pytestmark = pytest.mark.django_db


def test_recipient_inside_eea_follows_its_country():
    recipient = RecipientFactory(country="IE")
    assert recipient.inside_eea is True
    recipient.country = "US"
    recipient.safeguard = "scc"
    recipient.save()
    assert recipient.inside_eea is False


def test_recipient_save_refuses_third_country_without_safeguard(dpo):
    recipient = RecipientFactory.build(controller=ControllerFactory(), country="US", safeguard="")
    with pytest.raises(ValidationError) as excinfo:
        recipient_save(recipient=recipient, actor=dpo)
    assert "safeguard" in excinfo.value.message_dict
    assert recipient.pk is None


def test_controller_save_checks_enterprise_number(dpo):
    with pytest.raises(ValidationError) as excinfo:
        controller_save(controller=ControllerFactory.build(enterprise_number="BE0653.989.639"), actor=dpo)
    assert "enterprise_number" in excinfo.value.message_dict


def test_activity_save_needs_art9_condition_for_special_data(dpo):
    health = DataCategoryFactory(code="health", special_category=True)
    activity = ProcessingActivityFactory()
    with pytest.raises(ValidationError) as excinfo:
        processing_activity_save(activity=activity, actor=dpo, data_categories=[health])
    assert "art9_condition" in excinfo.value.message_dict
    assert not activity.data_categories.exists()

    activity.art9_condition = "explicit_consent"
    processing_activity_save(activity=activity, actor=dpo, data_categories=[health])
    assert list(activity.data_categories.all()) == [health]


def test_activity_save_records_actor_in_history(dpo):
    activity = ProcessingActivityFactory()
    activity.name = "Nieuwe naam"
    processing_activity_save(activity=activity, actor=dpo)
    latest = activity.history.latest()
    assert latest.history_user == dpo
    assert latest.name == "Nieuwe naam"


def test_activity_end_keeps_the_entry_with_successor(dpo):
    old = ProcessingActivityFactory()
    new = ProcessingActivityFactory(controller=old.controller)
    processing_activity_end(activity=old, ended_on=dt.date(2025, 6, 30), replaced_by=new, actor=dpo)
    old.refresh_from_db()
    assert (old.status, old.ended_on, old.replaced_by) == (ActivityStatus.ENDED, dt.date(2025, 6, 30), new)
    assert old.history.latest().history_change_reason == "ended"


def test_a_successor_of_another_controller_is_refused_by_the_model_and_the_service(dpo):
    """The rule once (processing/rules.py): the admin's form (the model's clean), the API and the service."""
    old, elsewhere = ProcessingActivityFactory(), ProcessingActivityFactory()
    assert old.controller_id != elsewhere.controller_id
    old.status, old.ended_on, old.replaced_by = ActivityStatus.ENDED, dt.date(2025, 6, 30), elsewhere
    with pytest.raises(ValidationError) as refused:
        old.full_clean()
    assert refused.value.message_dict["replaced_by"] == ["The successor must be an activity of the same controller."]
    old.refresh_from_db()
    with pytest.raises(ValidationError):
        processing_activity_end(activity=old, ended_on=dt.date(2025, 6, 30), replaced_by=elsewhere, actor=dpo)
    old.refresh_from_db()
    assert (old.status, old.replaced_by) == (ActivityStatus.ACTIVE, None)


def test_database_refuses_ended_activity_without_end_date():
    activity = ProcessingActivityFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessingActivity.objects.filter(pk=activity.pk).update(status=ActivityStatus.ENDED)


def test_reference_is_unique_per_controller():
    activity = ProcessingActivityFactory(reference="X-1")
    ProcessingActivityFactory(reference="X-1")  # another controller: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessingActivityFactory(reference="X-1", controller=activity.controller)


def test_purpose_clean_needs_interest_for_legitimate_interests():
    purpose = PurposeFactory.build(activity=ProcessingActivityFactory(), legal_basis="legitimate_interests")
    with pytest.raises(ValidationError) as excinfo:
        purpose.full_clean()
    assert "legitimate_interest" in excinfo.value.message_dict


def test_m2m_changes_are_versioned(dpo):
    category = DataCategoryFactory()
    activity = ProcessingActivityFactory()
    activity.data_categories.add(category)
    processing_activity_save(activity=activity, actor=dpo)
    historical = activity.history.latest()
    assert [row.datacategory_id for row in historical.data_categories.all()] == [category.pk]


def test_localized_name_falls_back_to_english_then_the_source_language():
    activity = ProcessingActivityFactory.build(name="Klantenbeheer", name_en="Customer management", name_fr="")
    assert activity.localized(language="en") == "Customer management"
    assert activity.localized(language="nl") == "Klantenbeheer"
    assert activity.localized(language="fr") == "Customer management"
    activity.name_en = ""
    assert activity.localized(language="fr") == "Klantenbeheer"

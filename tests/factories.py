import factory

from processing.choices import ActivityRole, ActivityStatus, LegalBasis, RecipientKind
from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
)
from retention.choices import Action, DurationUnit, Trigger
from retention.models import RetentionRule


class ControllerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Controller

    key = factory.Sequence(lambda n: f"controller-{n}")
    name = factory.Sequence(lambda n: f"Controller {n} NV")
    enterprise_number = "BE0653.989.638"
    country = "BE"
    supervisory_authority = "Gegevensbeschermingsautoriteit"


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    controller = factory.SubFactory(ControllerFactory)
    key = factory.Sequence(lambda n: f"recipient-{n}")
    name = factory.Sequence(lambda n: f"Recipient {n}")
    kind = RecipientKind.PROCESSOR
    country = "BE"


class DataSubjectCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSubjectCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"subjects-{n}")
    name = factory.Sequence(lambda n: f"Betrokkenen {n}")
    name_en = factory.Sequence(lambda n: f"Subjects {n}")


class DataCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Gegevens {n}")
    name_en = factory.Sequence(lambda n: f"Data {n}")


class SecurityMeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityMeasure
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"measure-{n}")
    name = factory.Sequence(lambda n: f"Maatregel {n}")
    kind = "technical"


class ProcessingActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingActivity

    controller = factory.SubFactory(ControllerFactory)
    reference = factory.Sequence(lambda n: f"ACT-{n:03d}")
    name = factory.Sequence(lambda n: f"Verwerking {n}")
    name_en = factory.Sequence(lambda n: f"Processing {n}")
    role = ActivityRole.CONTROLLER
    status = ActivityStatus.ACTIVE


class PurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purpose

    activity = factory.SubFactory(ProcessingActivityFactory)
    description = "Uitvoering van de overeenkomst"
    description_en = "Performing the contract"
    legal_basis = LegalBasis.CONTRACT


class RetentionRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RetentionRule

    activity = factory.SubFactory(ProcessingActivityFactory)
    duration_value = 10
    duration_unit = DurationUnit.YEARS
    trigger = Trigger.CONTRACT_END
    action = Action.DELETE


# Retention enforcement: subjects, records, holds (tests/retention, tests/subjects).
from subjects.models import DataSubject, PersonalDataRecord  # noqa: E402


class DataSubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSubject

    controller = factory.SubFactory(ControllerFactory)
    identifiers = factory.Sequence(lambda n: {"email": f"person{n}@example.org"})


class PersonalDataRecordFactory(factory.django.DjangoModelFactory):
    """A record as the ORM stores it; ``expires_at`` is NOT computed (use retention.services.record_register
    or record_expiry_recompute for that, or set it)."""

    class Meta:
        model = PersonalDataRecord

    activity = factory.SubFactory(ProcessingActivityFactory)
    subject = factory.SubFactory(DataSubjectFactory, controller=factory.SelfAttribute("..activity.controller"))
    data_category = factory.SubFactory(DataCategoryFactory)
    source_system = "crm"
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    payload = factory.Sequence(lambda n: {"name": f"Person {n}", "iban": f"BE71 0961 2345 {n:04d}"})

import datetime as dt

import pytest
from django.utils import timezone

from processing.choices import LegalBasis
from retention.services import record_register
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RetentionRuleFactory,
)


class People:
    """One controller with three activities: invoicing (a statutory 7-year rule), a newsletter resting on
    consent (marketing), and customer service (2 years after the last contact, anonymised); one person
    with a record in each."""

    def __init__(self):
        self.invoices = DataCategoryFactory(code="invoices", name_en="Invoices")
        self.contact = DataCategoryFactory(code="contact", name_en="Contact data")
        self.billing = ProcessingActivityFactory(reference="BIL-01")
        self.controller = self.billing.controller
        PurposeFactory(activity=self.billing, legal_basis=LegalBasis.LEGAL_OBLIGATION)
        self.fiscal = RetentionRuleFactory(
            activity=self.billing,
            trigger="financial_year_end_of_last_invoice",
            duration_value=7,
            duration_unit="years",
            statutory=True,
            legal_reference="Art. 60 WBTW",
        )
        self.newsletter = ProcessingActivityFactory(
            controller=self.controller, reference="MKT-01", business_process="Marketing"
        )
        self.newsletter_purpose = PurposeFactory(activity=self.newsletter, legal_basis=LegalBasis.CONSENT)
        RetentionRuleFactory(
            activity=self.newsletter, trigger="consent_withdrawn", duration_value=None, duration_unit="", grace_days=0
        )
        self.service = ProcessingActivityFactory(controller=self.controller, reference="SRV-01")
        PurposeFactory(activity=self.service, legal_basis=LegalBasis.CONTRACT)
        RetentionRuleFactory(
            activity=self.service, trigger="last_contact", duration_value=2, duration_unit="years", action="anonymise"
        )
        self.person = DataSubjectFactory(controller=self.controller, key="p-1", identifiers={"email": "an@example.be"})
        self.today = timezone.localdate()
        self.invoice = self.record(
            self.billing, self.invoices, "INV-1", last_invoice_financial_year_end=dt.date(2024, 12, 31)
        )
        self.mailing = self.record(self.newsletter, self.contact, "NL-1", collected_on=dt.date(2024, 5, 1))
        self.ticket = self.record(self.service, self.contact, "TCK-1", last_contact_on=dt.date(2025, 1, 10))

    def record(self, activity, category, external_id, subject=None, source_system="crm", **dates):
        return record_register(
            subject=subject or self.person,
            activity=activity,
            data_category=category,
            source_system=source_system,
            external_id=external_id,
            payload={"name": "An Peeters", "ref": external_id},
            dates=dates,
        )


@pytest.fixture
def people(db):
    return People()

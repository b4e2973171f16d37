"""Retention vocabularies: the codes of the ``ropa-register/1`` format."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DurationUnit(models.TextChoices):
    DAYS = "days", _("days")
    WEEKS = "weeks", _("weeks")
    MONTHS = "months", _("months")
    YEARS = "years", _("years")


class Trigger(models.TextChoices):
    """The moment a retention period starts to run."""

    COLLECTION = "collection", _("collection")
    FIRST_CONTACT = "first_contact", _("first contact")
    LAST_CONTACT = "last_contact", _("last contact")
    CONTRACT_END = "contract_end", _("end of the contract")
    SERVICE_END = "service_end", _("end of the service")
    SUBSCRIPTION_END = "subscription_end", _("end of the subscription")
    ACCOUNT_CLOSED = "account_closed", _("closing of the account")
    INACTIVITY = "inactivity", _("last activity")
    EVENT_END = "event_end", _("end of the event")
    COMPETITION_END = "competition_end", _("end of the competition")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("withdrawal of consent")
    FINANCIAL_YEAR_END_OF_LAST_INVOICE = (
        "financial_year_end_of_last_invoice",
        _("end of the financial year of the last invoice"),
    )
    CONTROLLER_REQUEST = "controller_request", _("request of the client controller")
    RELEVANCE_END = "relevance_end", _("the data is no longer relevant")


class Action(models.TextChoices):
    FLAG = "flag", _("flag for review")
    ANONYMISE = "anonymise", _("anonymise")
    DELETE = "delete", _("delete")

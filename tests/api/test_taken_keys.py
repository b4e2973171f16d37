"""A write whose only fault is a key the register already holds is a 409 naming the field, like any
conflict with the state it meets (a 400 is for malformed input)."""

import pytest

from processing.choices import LegalBasis
from tests.factories import PurposeFactory

pytestmark = pytest.mark.django_db


def test_a_taken_key_is_a_409_naming_the_field(world):
    api = world.api("dpo")
    response = api.post("controllers/", {"key": "acme", "name": "Acme again"})
    assert response.status_code == 409
    body = response.json()
    assert body["fields"] == ["key"] and "already exists" in body["detail"]
    response = api.post("data-categories/", {"code": "contact-data", "name": "Again"})
    assert response.status_code == 409 and response.json()["fields"] == ["code"]
    # A taken key among other mistakes is a 400 naming them all.
    response = api.post("data-categories/", {"code": "contact-data", "name": "", "special_category": "x"})
    assert response.status_code == 400 and {"code", "name"} <= set(response.json())


def test_a_taken_activity_reference_is_a_409(world):
    purpose = PurposeFactory.build(legal_basis=LegalBasis.CONTRACT)
    body = {
        "controller": "acme",
        "reference": "A-01",
        "name": "Again",
        "purposes": [{"description": purpose.description, "legal_basis": purpose.legal_basis}],
    }
    response = world.api("dpo").post("processing-activities/", body)
    assert response.status_code == 409, response.json()
    assert response.json()["detail"]

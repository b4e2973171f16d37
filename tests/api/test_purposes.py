"""Purposes carry their id, the one a consent names: on the activity, in a list of their own, and kept at
their place by a write that may state it."""

import pytest

from processing.choices import LegalBasis
from processing.models import Purpose
from subjects.models import ConsentRecord
from tests.factories import PurposeFactory

pytestmark = pytest.mark.django_db


def test_an_activity_shows_its_purposes_ids_in_the_list_and_the_detail(world):
    second = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT, position=1)
    expected = list(world.activity_a.purposes.order_by("position").values_list("id", flat=True))
    assert expected[-1] == second.pk
    api = world.api("dpo")
    listed = api.get("processing-activities/", {"controller": "acme"}).json()["results"]
    detail = api.get(f"processing-activities/{world.activity_a.pk}/").json()
    assert [p["id"] for p in listed[0]["purposes"]] == expected
    assert [p["id"] for p in detail["purposes"]] == expected
    assert listed[0]["purposes"] == detail["purposes"]


def test_the_purposes_list_gives_the_id_a_consent_names_and_the_consent_is_recorded(world):
    """From the API alone: find the consent purpose of the controller, then record the consent with it."""
    consent = PurposeFactory(
        activity=world.activity_a, legal_basis=LegalBasis.CONSENT, description="Nieuwsbrief", position=1
    )
    PurposeFactory(activity=world.activity_b, legal_basis=LegalBasis.CONSENT, position=1)
    system = world.api("system_a")
    assert system.post("records/", world.record()).status_code == 201  # subject "s-1"
    response = system.get("purposes/", {"legal_basis": "consent"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["id"], r["controller"], r["activity"], r["activity_reference"]) for r in rows] == [
        (consent.pk, "acme", world.activity_a.pk, "A-01")
    ]  # globex's purpose is out of the token's scope
    assert rows[0]["description"] == "Nieuwsbrief" and rows[0]["legal_basis"] == "consent"
    recorded = system.post("consents/", {"subject": "s-1", "purpose": rows[0]["id"], "source": "web form"})
    assert recorded.status_code == 201, recorded.json()
    assert ConsentRecord.objects.get().purpose_id == consent.pk

    dpo = world.api("dpo")
    assert len(dpo.get("purposes/").json()["results"]) == Purpose.objects.count() == 4
    assert [r["controller"] for r in dpo.get("purposes/", {"controller": "globex"}).json()["results"]] == [
        "globex",
        "globex",
    ]
    assert [
        r["id"]
        for r in dpo.get("purposes/", {"activity": world.activity_b.pk, "legal_basis": "consent"}).json()["results"]
    ] == list(Purpose.objects.filter(activity=world.activity_b, legal_basis="consent").values_list("id", flat=True))
    assert dpo.get("purposes/", {"legal_basis": "hunch"}).status_code == 400
    assert dpo.get("purposes/", {"activity": 2**64}).status_code == 400
    assert dpo.get("purposes/", {"activity": "1.5"}).status_code == 400
    assert dpo.post("purposes/", {}).status_code == 405
    assert world.api("system_b").get(f"purposes/{consent.pk}/").status_code == 404


def test_a_write_keeps_each_purpose_at_its_place_and_refuses_an_id_that_stands_elsewhere(world):
    second = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT, position=1)
    api = world.api("dpo")
    url = f"processing-activities/{world.activity_a.pk}/"
    purposes = api.get(url).json()["purposes"]
    ids = [p["id"] for p in purposes]

    # What was read, sent back with a changed wording: the same ids.
    purposes[1]["description_en"] = "Newsletter"
    response = api.patch(url, {"purposes": purposes})
    assert response.status_code == 200, response.json()
    assert [p["id"] for p in response.json()["purposes"]] == ids
    second.refresh_from_db()
    assert second.description_en == "Newsletter"

    # Swapped: refused, naming the row and what stands there; nothing changed.
    response = api.patch(url, {"purposes": [purposes[1], purposes[0]]})
    assert response.status_code == 400
    problems = str(response.json()["purposes"])
    assert f"At this place stands purpose {ids[0]}, not {ids[1]}" in problems
    assert list(world.activity_a.purposes.order_by("position").values_list("id", flat=True)) == ids

    # A new row with an id of its own: refused; without one it is added at the end.
    new = {"description": "Analyse", "legal_basis": "legitimate_interests", "legitimate_interest": "Beter product"}
    response = api.patch(url, {"purposes": [*purposes, {**new, "id": ids[0]}]})
    assert response.status_code == 400 and f"No purpose {ids[0]} at this place" in str(response.json()["purposes"])
    response = api.patch(url, {"purposes": [*purposes, new]})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["purposes"]][:2] == ids

"""The register as one document (ropa-register/1) and as export files, scoped to the token."""

import csv
import io

import pytest

pytestmark = pytest.mark.django_db


def test_register_document_in_the_token_scope(world):
    document = world.api("dpo").get("register/").json()
    assert document["format"] == "ropa-register/1"
    assert sorted(c["enterprise_number"] and c["name"] for c in document["controllers"]) == sorted(
        [world.a.name, world.b.name]
    )
    only_a = world.api("auditor_a").get("register/").json()
    assert [c["name"] for c in only_a["controllers"]] == [world.a.name]
    activity = only_a["controllers"][0]["activities"][0]
    assert activity["reference"] == "A-01"
    assert activity["retention"][0]["trigger"] == "contract_end"
    assert [c["name"] for c in world.api("system_b").get("register/").json()["controllers"]] == [world.b.name]
    assert world.api("dpo").get("register/", {"controller": "globex"}).json()["controllers"][0]["name"] == world.b.name
    assert world.api("system_b").get("register/", {"controller": "acme"}).status_code == 404
    assert world.api("dpo").get("register/", {"as_of": "1899-01-01"}).status_code == 400
    refused = world.api("dpo").get("register/", {"as_of": "2000-01-01"})
    assert refused.status_code == 400 and "history starts on" in str(refused.json()), refused.json()
    refused = world.api("dpo").get("register/export/", {"format": "pdf", "as_of": "2150-12-31"})
    assert refused.status_code == 400 and "2150-12-31 is in the future" in str(refused.json()), refused.json()
    assert world.api("dpo").get("register/", {"lang": "de"}).status_code == 400


@pytest.mark.parametrize(("fmt", "magic"), [("xlsx", b"PK"), ("csv", b""), ("pdf", b"%PDF"), ("json", b"{")])
def test_register_export_files(world, fmt, magic):
    response = world.api("auditor_a").get("register/export/", {"format": fmt, "lang": "nl"})
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content)
    assert body.startswith(magic)
    assert "register-acme-" in response["Content-Disposition"]


def test_a_csv_export_can_be_separated_by_semicolons(world):
    auditor = world.api("auditor_a")
    comma = b"".join(auditor.get("register/export/", {"format": "csv"}).streaming_content).decode("utf-8-sig")
    response = auditor.get("register/export/", {"format": "csv", "delimiter": ";"})
    assert response.status_code == 200
    semicolon = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(semicolon), delimiter=";")) == list(csv.reader(io.StringIO(comma)))
    refused = auditor.get("register/export/", {"format": "xlsx", "delimiter": ";"})
    assert refused.status_code == 400 and "delimiter" in refused.json()
    assert auditor.get("register/export/", {"format": "csv", "delimiter": "|"}).status_code == 400


def test_register_export_refuses_systems_and_bad_queries(world):
    assert world.api("system_a").get("register/export/", {"format": "csv"}).status_code == 403
    assert world.api("dpo").get("register/export/", {"format": "docx"}).status_code == 400
    assert world.api("dpo").get("register/export/").status_code == 400
    assert world.api("auditor_a").get("register/export/", {"format": "csv", "controller": "globex"}).status_code == 404


def test_the_documented_example_has_the_keys_the_document_has(world):
    """docs/register-json.md shows every key of ropa-register/1, at every level, and no other."""
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "register-json.md").read_text()
    example = json.loads(re.search(r"```json\n(.*?)\n```", text, re.S).group(1))
    from processing.models import Source

    world.activity_a.recipients.add(world.recipient_a)
    Source.objects.create(activity=world.activity_a, statement="acme.txt", quote="Wij verwerken.", position=0)
    document = world.api("dpo").get("register/", {"controller": "acme"}).json()
    controller = next(c for c in document["controllers"] if c["activities"])
    activity = controller["activities"][0]
    documented_controller = example["controllers"][0]
    documented_activity = documented_controller["activities"][0]
    assert set(example) == set(document)
    assert set(documented_controller) == set(controller)
    assert set(documented_activity) == set(activity)
    for key in ("purposes", "data_categories", "recipients", "retention", "sources"):
        assert activity[key], key
        assert set(documented_activity[key][0]) == set(activity[key][0]), key

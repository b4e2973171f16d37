"""The OpenAPI schema says what the API answers: every operation's error responses with their JSON shape,
the media types of the files it serves, the blank value of a choice that can be blank, the limits of its
query filters; and the API answers what the schema says (JSON errors, strict filters and page sizes).
Schemathesis checks the whole (tests/api/test_schemathesis.py); these pin each part."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from ropa.register import FORMATS

pytestmark = pytest.mark.django_db

ERRORS = {"401", "403", "429"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_operation_documents_its_error_responses(schema):
    seen = 0
    for path, method, operation in operations(schema):
        responses = set(operation["responses"])
        assert responses >= ERRORS, (method, path, responses)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= responses, (method, path)
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            assert "409" in responses, (method, path)
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in responses, (method, path)
        seen += 1
    assert seen >= 60
    components = schema["components"]["responses"]
    assert components["Unauthorized"]["headers"]["WWW-Authenticate"]["required"] is True
    assert components["TooManyRequests"]["headers"]["Retry-After"]["required"] is True
    assert components["BadRequest"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }


def test_a_conflict_declared_by_a_view_gets_the_error_shape(schema):
    package = schema["paths"]["/api/v1/requests/{id}/package/"]["get"]["responses"]
    assert package["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ValidationError"}
    assert set(package["200"]["content"]) == {"application/zip"}
    assert package["200"]["headers"]["Content-Disposition"]["required"] is True


def test_the_register_export_documents_each_file_type(schema):
    ok = schema["paths"]["/api/v1/register/export/"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {media.split(";")[0] for media, _extension in FORMATS.values()}
    assert {"text/csv", "application/pdf", "application/json"} <= set(ok["content"])
    assert "Content-Disposition" in ok["headers"]


def test_a_choice_that_can_be_blank_lists_the_blank_value(schema):
    from_status = schema["components"]["schemas"]["RequestEvent"]["properties"]["from_status"]
    refs = {option.get("$ref") for option in from_status["oneOf"]}
    assert "#/components/schemas/BlankEnum" in refs
    assert schema["components"]["schemas"]["BlankEnum"]["enum"] == [""]


def test_query_filters_carry_their_limits(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/consents/"]["get"]["parameters"]}
    assert parameters["purpose"]["schema"]["minimum"] == 1
    assert parameters["subject"]["schema"]["maxLength"] == 64
    assert parameters["withdrawn"]["allowEmptyValue"] is True
    assert parameters["page"]["schema"]["minimum"] == 1
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}


def test_request_text_refuses_nul_and_lists_refusing_empty_say_so(schema):
    activity = schema["components"]["schemas"]["ActivityWithRetentionRequest"]["properties"]
    assert activity["name"]["pattern"] == "^[^\\x00]*$"
    assert activity["purposes"]["minItems"] == 1
    # A field with its own pattern keeps it.
    assert schema["components"]["schemas"]["ControllerRequest"]["properties"]["key"]["pattern"] == "^[-a-zA-Z0-9_]+$"


def test_an_id_the_router_cannot_read_is_a_json_404(world):
    for path in ("records/0.5/", "controllers/a%2Fb/", "processing-activities/1.0/end/", "no-such-list/"):
        response = world.api("dpo").get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert response.json() == {"detail": "Not found."}
    # A write there too (no CSRF page: the API takes tokens, not sessions).
    for method in ("post", "put", "patch", "delete"):
        response = getattr(world.api("dpo"), method)("processing-activities/0.5/", {"name": "x"})
        assert (response.status_code, response["Content-Type"]) == (404, "application/json"), method
    # Without the trailing slash Django still redirects to it.
    assert Client().get("/api/v1/controllers").status_code == 301


def test_an_error_asked_for_as_a_zip_is_json(world):
    response = world.api("dpo").get("requests/999999/package/?format=zip")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize("value", ["maybe", "-58800", "1", "yes"])
def test_a_boolean_filter_refuses_anything_but_true_or_false(world, value):
    response = world.api("dpo").get(f"recipients/?inside_eea={value}")
    assert response.status_code == 400
    assert list(response.json()) == ["inside_eea"]
    assert world.api("dpo").get("recipients/?inside_eea=false").status_code == 200
    assert world.api("dpo").get("recipients/?inside_eea=").status_code == 200


@pytest.mark.parametrize("value", ["abc", "null", "0", "501", ""])
def test_a_page_size_out_of_its_range_is_a_400(world, value):
    response = world.api("dpo").get(f"controllers/?page_size={value}")
    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]
    assert len(world.api("dpo").get("controllers/?page_size=1").json()["results"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("data-categories/", {"code": "c-2", "name": "X", "criminal": 0}, "criminal"),
        ("data-categories/", {"code": "c-2", "name": "X", "special_category": "true"}, "special_category"),
        ("data-subject-categories/", {"code": "s-2", "name": "X", "description": 0}, "description"),
        ("security-measures/", {"code": "m-2", "name": "X", "kind": "technical", "description": 1.5}, "description"),
        (
            "recipients/",
            {"controller": "acme", "key": "r-2", "name": "X", "kind": "processor", "country": {}},
            "country",
        ),
        ("controllers/", {"key": "k-2", "name": "X", "source_quote": 0}, "source_quote"),
    ],
)
def test_a_json_value_of_the_wrong_type_is_refused_not_converted(world, path, body, field):
    response = world.api("dpo").post(path, body)
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field]
    # The same value with its JSON type is taken.
    fixed = {**body, field: {"criminal": False, "special_category": True, "country": "BE"}.get(field, "0")}
    assert world.api("dpo").post(path, fixed).status_code == 201


def test_query_strings_are_read_as_text_as_before(world):
    # Not a JSON body: the register's own query serializers still read "2024-01-01" and "en" from strings.
    assert world.api("dpo").get("register/?lang=en&controller=acme").status_code == 200

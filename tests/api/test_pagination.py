"""Numbered register pages read their rows and the total in one query, and say so when a page is past
the end."""

import pytest

from tests.factories import ProcessingActivityFactory


@pytest.fixture
def many(world):
    for n in range(23):
        ProcessingActivityFactory(controller=world.a, reference=f"A-{n + 2:02d}")
    return world


def test_pages_carry_the_total_and_every_row_once(many):
    api = many.api("dpo")
    seen, url = [], "processing-activities/?page_size=10"
    while url:
        body = api.get(url).json()
        assert body["count"] == 25
        seen += [row["reference"] for row in body["results"]]
        url = body["next"] and body["next"].removeprefix("http://testserver")
    assert len(seen) == 25
    assert len(set(seen)) == 25


def test_a_page_is_one_query_for_rows_and_total(many, django_assert_num_queries):
    api = many.api("auditor")
    api.get("processing-activities/?page_size=10")  # warm the token's last-used stamp
    # token, page with its total, nested children
    with django_assert_num_queries(3):
        body = api.get("processing-activities/?page=2&page_size=10").json()
    assert body["count"] == 25
    assert len(body["results"]) == 10


def test_a_filtered_total_counts_the_filtered_rows(many):
    body = many.api("dpo").get("processing-activities/?controller=globex").json()
    assert body["count"] == 1
    assert [row["reference"] for row in body["results"]] == ["B-01"]


@pytest.mark.parametrize("page", ["4", "0", "-1", "x", "99999999999999999"])
def test_a_page_past_the_end_or_not_a_number_is_not_found(many, page):
    response = many.api("dpo").get(f"processing-activities/?page={page}&page_size=10")
    assert response.status_code == 404
    assert "page" in response.json()["detail"].lower()

"""The dashboard's words in English, Dutch and French: counted sentences in their plural forms, a sentence
rather than empty axes when nothing runs out, month names in the page's language."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from retention.services import record_register
from ropa.site.dashboard import Context, _bars, due_per_month
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory, RetentionRuleFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "nl", "fr")
HEADING = (
    "%(counter)s record reaches the end of its retention period in the next 12 months",
    "%(counter)s records reach the end of their retention period in the next 12 months",
)
EMPTY = "No record reaches the end of its retention period in the next 12 months."


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    translation.activate("en")


@pytest.fixture
def activity():
    activity = ProcessingActivityFactory()
    RetentionRuleFactory(
        activity=activity, trigger="collection", duration_value=1, duration_unit="years", action="delete", grace_days=0
    )
    return activity


def _due(activity, n: int) -> None:
    """``n`` records whose retention runs out in ten days."""
    category = DataCategoryFactory()
    collected = timezone.localdate() - dt.timedelta(days=365 - 10)
    for i in range(n):
        record_register(
            subject=DataSubjectFactory(controller=activity.controller),
            activity=activity,
            data_category=category,
            source_system="crm",
            external_id=f"W-{activity.pk}-{i}",
            payload={"name": f"Person {i}"},
            dates={"collected_on": collected},
        )


def _chart(client, language: str) -> str:
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'lang="{language}"' in page
    return page[page.index('<div class="chart">') : page.index('<ul class="shortcuts">')]


def _text(fragment: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 record reaches the end of its retention period in the next 12 months"),
        (3, "3 records reach the end of their retention period in the next 12 months"),
    ],
)
def test_the_chart_heading_counts_in_the_right_plural_form(dpo_client, activity, count, expected):
    _due(activity, count)
    chart = _chart(dpo_client, "en")
    assert _text(re.search(r"<h3>(.*?)</h3>", chart, re.S).group(1)) == expected
    assert "records' retention" not in chart and "record's retention" not in chart
    for language in ("nl", "fr"):
        with translation.override(language):
            wanted = ngettext(*HEADING, count) % {"counter": count}
        assert _text(re.search(r"<h3>(.*?)</h3>", _chart(dpo_client, language), re.S).group(1)) == wanted


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_empty_chart_says_so_instead_of_drawing_empty_axes(dpo_client, activity, language):
    chart = _chart(dpo_client, language)
    assert "<svg" not in chart and "<h3>" not in chart
    with translation.override(language):
        assert _text(chart) == gettext(EMPTY)
    if language == "en":
        assert _text(chart) == EMPTY


MONTHS = {
    "en": {"March", "Aug.", "Sept."},
    "nl": {"mrt", "mei", "okt"},
    "fr": {"mars", "juin", "juil.", "août"},
}
MONTH_NAMES = {"en": "March", "nl": "maart", "fr": "mars"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_months_are_named_in_the_page_s_language(dpo_client, activity, language):
    _due(activity, 2)
    chart = _chart(dpo_client, language)
    shorts = [html.unescape(s) for s in re.findall(r'y="134" text-anchor="middle">([^<]*)</text>', chart)]
    ctx = Context(controllers=[activity.controller], now=timezone.now())
    series = due_per_month(ctx)
    with translation.override(language):
        assert shorts == [formats.date_format(start, "N") for start, _n in series]
        wanted = [
            ngettext("%(month)s: %(count)s record", "%(month)s: %(count)s records", n)
            % {"month": formats.date_format(start, "YEAR_MONTH_FORMAT"), "count": n}
            for start, n in series
        ]
    assert len(set(shorts)) == 12 and MONTHS[language] <= set(shorts)  # the next twelve months: every name
    titles = [_text(t) for t in re.findall(r"<a href=[^>]*><title>(.*?)</title>", chart)]
    assert titles == wanted and any(MONTH_NAMES[language] in title for title in titles)
    assert sum(n for _start, n in series) == 2


def test_bar_titles_count_in_the_right_plural_form():
    translation.activate("en")
    one, none = _bars([(dt.date(2026, 6, 1), 1), (dt.date(2026, 7, 1), 0)])[0]
    assert (one.title, none.title) == ("June 2026: 1 record", "July 2026: 0 records")
    assert (one.short, one.year, none.year) == ("June", "2026", "")
    translation.activate("fr")
    assert _bars([(dt.date(2027, 7, 1), 3)])[0][0].short == "juil."

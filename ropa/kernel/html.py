"""Admin list cells that stay narrow: a text cut to a length with the whole of it on hover."""

from django.utils.html import format_html
from django.utils.text import Truncator


def shortened(text: str, chars: int):
    """``text`` cut to ``chars`` characters (with an ellipsis) and whole in its title; as it is when short."""
    text = str(text or "")
    if len(text) <= chars:
        return text
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(chars))


def labelled(shown: str, full: str):
    """``shown`` (a reference, a code) with ``full`` (its name) on hover."""
    return format_html('<span title="{}">{}</span>', full, shown)


def in_language(text, text_language: str, asked: str):
    """``text`` with a small badge naming its language when it is not the one the reader asked for (a
    register entry without a translation), so no reader takes it for one."""
    text = str(text or "")
    if not text or text_language == (asked or "")[:2]:
        return text
    return format_html(
        '<span lang="{}">{}</span> <span class="lang-badge" title="{}">{}</span>',
        text_language,
        text,
        text_language.upper(),
        text_language,
    )

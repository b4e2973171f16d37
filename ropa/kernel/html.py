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

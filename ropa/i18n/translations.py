"""The interface translations (locale/<lang>/LC_MESSAGES/django.po), compiled without GNU gettext.

Django reads compiled ``.mo`` files. They are committed, and ``manage.py compile_translations`` (run by
``./dev run`` and the Dockerfile) rebuilds them with Babel, a pure-Python library, so that an install
needs no system tools. ``catalog_problems`` says what is wrong: an entry untranslated or fuzzy, or a
``.mo`` that no longer matches its ``.po``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from django.conf import settings


def po_files() -> list[Path]:
    return sorted(path for root in settings.LOCALE_PATHS for path in Path(root).glob("*/LC_MESSAGES/*.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.parent.parent.name)


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, list | tuple) else (message.string,)
    return all(strings)


def _entries(catalog: Catalog) -> dict:
    """What a compiled catalog answers: (context, id) -> translation, for the non-fuzzy translated entries."""
    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {
        (message.context, frozen(message.id)): frozen(message.string)
        for message in catalog
        if message.id and not message.fuzzy and _translated(message)
    }


def compile_catalog(path: Path) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, _read(path), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> list[Path]:
    """Write every ``.mo`` beside its ``.po``; returns the files written."""
    written = []
    for path in po_files():
        target = path.with_suffix(".mo")
        data = compile_catalog(path)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            written.append(target)
    return written


def catalog_problems() -> Iterator[str]:
    """Untranslated or fuzzy entries, and ``.mo`` files that are missing or say something else than their ``.po``."""
    for path in po_files():
        catalog = _read(path)
        for message in catalog:
            if not message.id:
                if message.fuzzy:
                    yield f"{path}: the header is marked fuzzy"
                continue
            if message.fuzzy:
                yield f"{path}:{message.lineno}: fuzzy: {message.id!r}"
            elif not _translated(message):
                yield f"{path}:{message.lineno}: untranslated: {message.id!r}"
        target = path.with_suffix(".mo")
        if not target.exists():
            yield f"{target}: missing; run manage.py compile_translations"
            continue
        with target.open("rb") as handle:
            compiled = read_mo(handle)
        if _entries(compiled) != _entries(catalog):
            yield f"{target}: stale, it differs from {path.name}; run manage.py compile_translations"

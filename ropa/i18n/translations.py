"""The interface translations (locale/<lang>/LC_MESSAGES/django.po), compiled without GNU gettext.

Django reads compiled ``.mo`` files. They are committed, and ``manage.py compile_translations`` (run by
``./dev run`` and the Dockerfile) rebuilds them with Babel, a pure-Python library, so that an install
needs no system tools. ``catalog_problems`` says what is wrong: an entry untranslated or fuzzy, or a
``.mo`` that no longer matches its ``.po``.

A ``.mo`` is compared with its ``.po`` by what it answers (context, id and plural -> translation, and the
plural rule), never by its bytes: another Babel version writes the same catalog in other bytes, and a
current ``.mo`` is left untouched.
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
    """What a compiled catalog answers: (context, id) -> translation, for the non-fuzzy translated entries, and
    the plural rule that picks among the plural forms."""
    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    entries = {
        (message.context, frozen(message.id)): frozen(message.string)
        for message in catalog
        if message.id and not message.fuzzy and _translated(message)
    }
    entries[None] = catalog.plural_forms
    return entries


def _current(target: Path, catalog: Catalog) -> bool:
    """Whether the ``.mo`` file ``target`` exists and answers what ``catalog`` says."""
    if not target.exists():
        return False
    with target.open("rb") as handle:
        compiled = read_mo(handle)
    return _entries(compiled) == _entries(catalog)


def compile_catalog(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> list[Path]:
    """Write every ``.mo`` beside its ``.po`` whose entries are not current; returns the files written."""
    written = []
    for path in po_files():
        target = path.with_suffix(".mo")
        catalog = _read(path)
        if not _current(target, catalog):
            target.write_bytes(compile_catalog(catalog))
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
        elif not _current(target, catalog):
            yield f"{target}: stale, it differs from {path.name}; run manage.py compile_translations"

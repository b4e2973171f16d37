"""The interface in three languages: every entry translated, nothing fuzzy, the committed .mo files current."""

import shutil
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from ropa.i18n.translations import catalog_problems, compile_all, po_files


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Requests in another language leave it active in this thread: give the next test English again."""
    yield
    translation.activate("en")


def test_the_catalogs_are_complete_and_their_mo_files_current():
    assert [path.parent.parent.name for path in po_files()] == ["fr", "nl"]
    assert list(catalog_problems()) == []


@pytest.fixture
def locale_copy(settings, tmp_path):
    target = tmp_path / "locale"
    shutil.copytree(settings.LOCALE_PATHS[0], target)
    settings.LOCALE_PATHS = [target]
    return target


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_changed_po_makes_its_mo_stale_until_compiled(locale_copy):
    po = locale_copy / "nl" / "LC_MESSAGES" / "django.po"
    _edit(po, 'msgstr "Overzicht"', 'msgstr "Dashboard"')
    problems = list(catalog_problems())
    assert len(problems) == 1 and "stale" in problems[0] and "nl" in problems[0]
    with pytest.raises(CommandError, match="stale"):
        call_command("compile_translations", "--check")
    assert [path.parent.parent.name for path in compile_all()] == ["nl"]
    assert list(catalog_problems()) == []


def test_untranslated_and_fuzzy_entries_are_reported(locale_copy):
    po = locale_copy / "fr" / "LC_MESSAGES" / "django.po"
    _edit(po, 'msgstr "Tableau de bord"', 'msgstr ""')
    _edit(po, '\nmsgid "Switch"', '\n#, fuzzy\nmsgid "Switch"')
    problems = "\n".join(catalog_problems())
    assert "untranslated: 'Dashboard'" in problems and "fuzzy: 'Switch'" in problems


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_string_of_the_project_is_in_the_catalogs(locale_copy, settings, tmp_path):
    """Extract again into a copy: nothing new may appear (a new string must be translated in the same change).
    makemessages writes into any ``locale`` folder of its working directory, so it runs in a folder of links
    to the sources, never in the project itself."""
    before = {path.parent.parent.name: _msgids(path) for path in po_files()}
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("ropa", "processing", "retention", "subjects", "templates"):
        (sources / name).symlink_to(settings.BASE_DIR / name)
    subprocess.run(
        [sys.executable, "-c", _EXTRACT, str(locale_copy), str(settings.BASE_DIR)],
        cwd=sources,
        check=True,
        capture_output=True,
    )
    after = {path.parent.parent.name: _msgids(path) for path in po_files()}
    assert after == before, "new or changed strings: run makemessages -l nl -l fr (README) and translate them"
    assert list(catalog_problems()) == []


def _msgids(path):
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return sorted(str(message.id) for message in read_po(handle) if message.id)


_EXTRACT = """
import os, sys
sys.path.insert(0, sys.argv[2])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ropa.settings")
import django
from django.conf import settings
django.setup()
settings.LOCALE_PATHS = [sys.argv[1]]
from django.core.management import call_command
call_command("makemessages", locale=["nl", "fr"], symlinks=True, no_obsolete=True, verbosity=0)
"""


def test_the_admin_speaks_dutch_and_french(dpo_client):
    for language, words in (
        ("nl", ["Verwerkingsactiviteiten", "Overzicht"]),
        ("fr", ["Activités de traitement", "Tableau de bord"]),
    ):
        dpo_client.post(reverse("set_language"), {"language": language})
        html = dpo_client.get(reverse("admin:index")).content.decode()
        for word in words:
            assert word in html, (language, word)

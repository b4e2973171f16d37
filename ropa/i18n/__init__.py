"""The interface in English, Dutch and French: the translation tooling (``translations``: the catalogs compiled
without GNU gettext, and their checks), the strings of installed apps that the project translates
(``vendor_strings``), the user's language applied to each request (``middleware``) and the date formats
(``formats``, Django's ``FORMAT_MODULE_PATH``)."""

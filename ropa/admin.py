"""The admin's own module for the ``ropa`` app, which Django imports: the site's pages live in ``ropa/site/``."""

from .site import exports  # noqa: F401  (the export action and button on the controller pages)

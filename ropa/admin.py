"""The admin's own module for the ``ropa`` app, which Django imports after the admin modules of the apps
listed before it (auth, allauth): the site's pages and the platform's admin pages live in ``ropa/site/``."""

from .site import allauth, audit, exports, users  # noqa: F401  (registered on import)

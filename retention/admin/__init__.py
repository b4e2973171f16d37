"""Retention in the admin: rules on the activity page and in their own list; legal holds (placed and
released through the services); runs, tombstones and the erasure feed, read-only evidence."""

# Importing the modules registers their admins.
from . import enforcement, review, rules  # noqa: F401
from .review import retention_review_view

__all__ = ["retention_review_view"]

"""The REST API under ``/api/v1/``: scoped tokens, roles, base views, pagination and throttling.

The endpoints themselves live beside their models (``processing/api``, ``subjects/api``,
``retention/api``); this package holds what they share.
"""

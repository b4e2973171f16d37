"""Who is acting now: the request being served (its user, or the API token it carries), a named
process set with ``audit_actor()``, a Celery task, or the management command this process runs."""

import contextlib
import os
import sys
from contextvars import ContextVar
from dataclasses import dataclass

_request: ContextVar = ContextVar("audit_request", default=None)
_label: ContextVar = ContextVar("audit_actor_label", default=None)


@dataclass(frozen=True)
class Actor:
    label: str
    user: object | None = None
    token_key: str = ""


def _process_label() -> str:
    """``command:NAME`` under ``manage.py NAME``, else ``system``."""
    argv = sys.argv
    if len(argv) >= 2 and os.path.basename(argv[0]) in ("manage.py", "django-admin", "django-admin.py"):
        return f"command:{argv[1]}"
    return "system"


@contextlib.contextmanager
def audit_request(request):
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


@contextlib.contextmanager
def audit_actor(label: str):
    """Name the process acting inside the block, e.g. ``with audit_actor("command:import_register")``."""
    token = _label.set(label)
    try:
        yield
    finally:
        _label.reset(token)


def set_actor_label(label: str | None):
    return _label.set(label)


def reset_actor_label(token) -> None:
    _label.reset(token)


def current_actor() -> Actor:
    """Read at write time, so that a DRF token authenticated inside the view is seen too (DRF copies
    ``user`` and ``auth`` onto the underlying request)."""
    request = _request.get()
    if request is not None:
        # An API token says who it is (``ApiToken.audit_actor``): the token tier sits above this one.
        audit_actor = getattr(getattr(request, "auth", None), "audit_actor", None)
        if callable(audit_actor):
            return audit_actor()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return Actor(label=user.get_username(), user=user)
        return Actor(label="anonymous")
    label = _label.get()
    return Actor(label=label or _process_label())


_task_tokens: dict = {}


def task_started(task_id=None, task=None, **kwargs) -> None:
    _task_tokens[task_id] = _label.set(f"task:{getattr(task, 'name', 'unknown')}")


def task_finished(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context: nothing to undo there
            _label.reset(token)

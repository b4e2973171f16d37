"""The small steps every write of the register shares (the services, the API's nested writes, the importer):
give an instance its values, know whether it already holds them, and name who made the change and why for
the version history (django-simple-history reads ``_history_user`` and ``_change_reason``)."""

# ``as_actor`` without an actor: the history keeps whoever the request or the audit context names.
_FROM_CONTEXT = object()
FROM_CONTEXT = _FROM_CONTEXT  # for services that pass an actor on only when given one


def as_actor(instance, actor=_FROM_CONTEXT, reason: str | None = None):
    """Name who writes ``instance`` (a user, or None for the system) and why, for its history row."""
    if actor is not _FROM_CONTEXT:
        instance._history_user = actor
    if reason:
        instance._change_reason = reason
    return instance


def assign(instance, values: dict):
    """Give ``instance`` the ``values`` (field name -> value), unsaved."""
    for name, value in values.items():
        setattr(instance, name, value)
    return instance


def holds(instance, values: dict) -> bool:
    """Whether ``instance`` is stored and already holds ``values``: then writing it would change nothing."""
    return instance.pk is not None and all(getattr(instance, name) == value for name, value in values.items())


def error_list(errors: dict[int, dict], length: int) -> str:
    """The errors of the rows of a list (position -> {field: messages}) as one message, by position."""
    return "; ".join(
        f"[{position}] {field}: {' '.join(messages)}"
        for position, fields in sorted(errors.items())
        for field, messages in fields.items()
    )

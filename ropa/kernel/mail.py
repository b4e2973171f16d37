"""Mail to the DPO: one sender for every notice the register sends (the sweep's flags, request deadlines).

A notice carries counts, ids, dates and links, never personal data; its links are absolute, from
``ROPA_BASE_URL``. Without ``ROPA_DPO_EMAILS`` nothing is sent."""

from django.conf import settings
from django.core.mail import send_mail


def dpo_link(path: str) -> str:
    """An absolute link to a page of the register (``path`` as ``reverse`` gives it)."""
    return settings.ROPA_BASE_URL.rstrip("/") + path


def dpo_mail(*, subject: str, lines: list[str]) -> bool:
    """Send the DPO ``subject`` (prefixed ``[ropa]``) with ``lines`` as the body. False when no DPO address
    is configured (nothing is sent); a failing mail server raises, so the task that sends it fails visibly."""
    recipients = list(settings.ROPA_DPO_EMAILS)
    if not recipients:
        return False
    send_mail(
        subject=f"[ropa] {subject}",
        message="\n".join(lines),
        from_email=None,
        recipient_list=recipients,
        fail_silently=False,
    )
    return True

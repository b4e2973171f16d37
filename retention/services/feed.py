"""The erasure feed: what each source system must erase too, until it confirms (the confirmation forgets
the external id the line still carried)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ..models import ErasureNotice


@transaction.atomic
def erasure_confirm(*, source_system: str, external_ids: list[str], now: dt.datetime | None = None) -> int:
    """The source system confirms it erased these ids too: the feed forgets them. Returns lines confirmed."""
    return ErasureNotice.objects.filter(
        source_system=source_system, external_id__in=external_ids, confirmed_at__isnull=True
    ).update(confirmed_at=now or timezone.now(), external_id=None)

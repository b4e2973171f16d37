"""Records as retention sees them: a fixed clock (``NOW``, Brussels) and a world of one activity in which to
register records and rules through the services."""

import datetime as dt
from zoneinfo import ZoneInfo

from retention.services import record_register
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    RetentionRuleFactory,
)

TZ = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=TZ)


class RetentionWorld:
    """A controller with one activity, one data category and helpers to register records and rules."""

    def __init__(self):
        self.activity = ProcessingActivityFactory()
        self.controller = self.activity.controller
        self.category = DataCategoryFactory()
        self._n = 0

    def rule(self, **kwargs):
        kwargs.setdefault("activity", self.activity)
        kwargs.setdefault("trigger", "collection")
        kwargs.setdefault("duration_value", 1)
        kwargs.setdefault("duration_unit", "years")
        kwargs.setdefault("grace_days", 30)
        return RetentionRuleFactory(**kwargs)

    def record(self, *, collected_on=dt.date(2020, 1, 1), subject=None, activity=None, category=None, **kwargs):
        self._n += 1
        activity = activity or self.activity
        dates = {"collected_on": collected_on, **kwargs.pop("dates", {})}
        return record_register(
            subject=subject or DataSubjectFactory(controller=activity.controller),
            activity=activity,
            data_category=category or self.category,
            source_system=kwargs.pop("source_system", "crm"),
            external_id=kwargs.pop("external_id", f"CRM-{self._n:05d}"),
            payload=kwargs.pop("payload", {"name": f"Jan Peeters {self._n}", "email": f"jan{self._n}@example.be"}),
            dates=dates,
            now=kwargs.pop("now", NOW),
            **kwargs,
        )

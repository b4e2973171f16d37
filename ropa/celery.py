"""The Celery app. Tasks receive ids, never model instances; beat reads its schedule from the database."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ropa.settings")

app = Celery("ropa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

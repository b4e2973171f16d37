import pytest
from django.core.cache import cache
from django.db import connection

from tests.auth import login_verified

# Fixtures every directory may use (a module's own fixture of the same name wins there).
pytest_plugins = ["tests.support.register_file"]


@pytest.fixture
def dpo(django_user_model):
    return django_user_model.objects.create_superuser("dpo", "dpo@example.org", "a-long-test-password")


@pytest.fixture
def dpo_client(client, dpo):
    return login_verified(client, dpo)


@pytest.fixture
def dpo_mail(settings):
    """Mail goes to Django's in-memory outbox and the DPO has an address (retention notices)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ROPA_DPO_EMAILS = ["dpo@example.org"]
    return settings.ROPA_DPO_EMAILS


def pytest_configure(config):
    """A fast password hasher for the suite: the production hasher (PBKDF2, 1,000,000 rounds) costs half a
    second per user made or logged in. The login's behaviour does not depend on the hasher."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]



def pytest_runtest_setup(item):
    """The one PostgreSQL-only skip: ``@pytest.mark.postgres(reason=...)`` (or a module's ``pytestmark``)
    skips the test on the embedded SQLite default, saying why; the PostgreSQL session runs it."""
    marker = item.get_closest_marker("postgres")
    if marker is not None and connection.vendor != "postgresql":
        pytest.skip(marker.kwargs.get("reason", "needs PostgreSQL"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and the codes already used (allauth keeps both in the cache) start empty per test."""
    yield
    cache.clear()

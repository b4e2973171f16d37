"""The client's address behind the proxies of ``ROPA_PROXY_COUNT``: the lock-out locks the client, not the proxy,
and a client cannot choose its address by writing X-Forwarded-For itself."""

import pytest
from allauth.core.internal.httpkit import get_client_ip as allauth_client_ip
from django.test import RequestFactory
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from ropa.access.client_ip import client_ip
from tests.auth import enrol_totp, log_in

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
PROXY = "192.0.2.10"


@pytest.fixture
def behind_one_proxy(settings):
    settings.ROPA_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.AXES_FAILURE_LIMIT = 3


def _through_proxy(client, login, password, address):
    return log_in(client, login, password, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


def test_failures_behind_the_proxy_lock_the_client_not_everyone(client, dpo, behind_one_proxy):
    enrol_totp(dpo)
    for _ in range(3):
        _through_proxy(client, "nobody", "wrong-password", "10.0.0.1")
    assert _through_proxy(client, "someone-else", "wrong-password", "10.0.0.1").status_code == 429
    # The DPO, through the same proxy from another address, gets to the second factor.
    response = _through_proxy(client, "dpo", PASSWORD, "10.0.0.2")
    assert response.status_code == 302, response


def test_a_client_cannot_pick_its_address_in_the_header(client, dpo, behind_one_proxy):
    """What the client writes in X-Forwarded-For comes before what our proxy appends: it is not believed."""
    for spoofed in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        _through_proxy(client, "nobody", "wrong-password", f"{spoofed}, 10.0.0.1")
    assert _through_proxy(client, "nobody", "wrong-password", "203.0.113.99, 10.0.0.1").status_code == 429


def test_without_proxies_the_header_is_ignored(client, dpo, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for spoofed in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        log_in(client, "nobody", "wrong-password", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=spoofed)
    response = log_in(client, "nobody", "x", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.4")
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [(0, "10.0.0.1", PROXY), (1, "10.0.0.1", "10.0.0.1"), (1, "6.6.6.6, 10.0.0.1", "10.0.0.1"),
     (2, "6.6.6.6, 10.0.0.1, 192.0.2.20", "10.0.0.1")],
)
def test_lock_out_allauth_and_the_api_throttles_agree(settings, count, forwarded, expected):
    settings.ROPA_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    throttle_ident = SimpleRateThrottle.__new__(SimpleRateThrottle).get_ident(Request(request))
    assert client_ip(request) == allauth_client_ip(request) == throttle_ident == expected

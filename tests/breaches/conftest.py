# The API's world (two controllers, a token per role): the API's and the security tests' fixtures.
from tests.support.api import anyone, today, world  # noqa: F401

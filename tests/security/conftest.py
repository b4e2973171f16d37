# The API's world (two controllers, a token per role) serves the security tests too.
from tests.api.conftest import Api, World, anyone, today, world  # noqa: F401

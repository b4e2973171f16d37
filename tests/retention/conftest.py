import pytest

from tests.support.records import RetentionWorld


@pytest.fixture
def world(db):
    return RetentionWorld()

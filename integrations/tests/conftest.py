import pytest

from integrations.intercom.fake import FakeIntercom


@pytest.fixture(scope="session")
def intercom_server():
    with FakeIntercom(search_delay_seconds=0) as fake:
        yield fake


@pytest.fixture
def intercom(intercom_server, settings):
    """The fake Intercom, reset, with the portal pointed at it and switched on."""
    intercom_server.reset()
    intercom_server.configure(search_delay_seconds=0)
    settings.INTERCOM_ENABLED = True
    settings.INTERCOM_ACCESS_TOKEN = intercom_server.token
    settings.INTERCOM_BASE_URL = intercom_server.url
    yield intercom_server
    assert not intercom_server.internal_errors, intercom_server.internal_errors

"""Fixtures the portfolio's tests share."""

import pytest
import responses

from accounts.tests.factories import DATA_API, recorded_data_api_page


@pytest.fixture
def polymarket(settings):
    """Polymarket's Data API answering every wallet with the recorded whale payloads (v2)."""
    settings.POLYMARKET_DATA_URL = DATA_API
    settings.POLYMARKET_DEMO_FIXTURES = False
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{DATA_API}/v2/positions", body=recorded_data_api_page("data_api_v2_positions.json"))
        mock.get(f"{DATA_API}/v2/value", body=recorded_data_api_page("data_api_v2_value.json"))
        yield mock

from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command
from django.urls import reverse

from disputes.models import Market
from disputes.services import market_create_manual
from disputes.tests.factories import gamma_payload

pytestmark = pytest.mark.django_db
GAMMA = "https://gamma-api.polymarket.com"


@responses.activate
def test_import_market_command_imports_and_reports_failures():
    responses.get(f"{GAMMA}/markets/1689303", json=gamma_payload("market_1689303.json"))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2"):
        call_command("import_market", "1689303", "https://example.com/x", stdout=out, stderr=err)
    assert "1689303" in out.getvalue() and "(new)" in out.getvalue()
    assert "not a Polymarket" in err.getvalue()
    assert Market.objects.count() == 1


@responses.activate
def test_refresh_markets_refetches_open_markets_and_records_changed_rules():
    payload = gamma_payload("market_open.json")
    responses.get(f"{GAMMA}/markets/{payload['id']}", json=payload)
    call_command("import_market", payload["id"], stdout=StringIO())
    changed = {**payload, "description": payload["description"] + " Updated."}
    responses.replace(responses.GET, f"{GAMMA}/markets/{payload['id']}", json=changed)
    out = StringIO()
    call_command("refresh_markets", stdout=out)
    assert "1 with new rules" in out.getvalue()
    assert Market.objects.get().rule_versions.count() == 2


def test_hand_entered_rules_are_edited_as_new_versions(client, specialist):
    market = market_create_manual(by=specialist, question="Q?", rules_text="Old.", outcomes=["Yes", "No"])
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:market_rules_edit", args=[market.pk]), {"rules_text": "New."}, follow=True
    )
    assert "Saved as a new version" in response.content.decode()
    assert market.rule_versions.count() == 2
    empty = client.post(reverse("disputes:market_rules_edit", args=[market.pk]), {"rules_text": " "})
    assert empty.status_code == 400

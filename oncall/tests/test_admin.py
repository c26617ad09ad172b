"""Escalation policies and people's chat webhooks in the Django admin: Admins only; the models'
rules hold there (a step pages a layer or a person; the first waits at most 30 minutes)."""

import pytest
from django.urls import reverse

from oncall.models import EscalationPolicy
from oncall.tests.factories import make_rota
from portal.roles import Role

pytestmark = pytest.mark.django_db

PAGES = [
    "admin:oncall_escalationpolicy_changelist",
    "admin:oncall_escalationpolicy_add",
    "admin:oncall_oncallcontact_changelist",
    "admin:oncall_escalation_changelist",
    "admin:oncall_page_changelist",
]


@pytest.mark.parametrize("page", PAGES)
def test_only_admins_reach_the_oncall_admin(client, people, page):
    for role, person in people.items():
        client.force_login(person)
        assert client.get(reverse(page)).status_code == (200 if role == Role.ADMIN else 302), role


def policy_post(rota, *steps):
    data = {
        "name": "Nights",
        "rota": rota.pk,
        "repeat_minutes": 10,
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": 0,
    }
    for n, (layer_position, person, wait) in enumerate(steps):
        data |= {
            f"steps-{n}-position": n + 1,
            f"steps-{n}-layer_position": layer_position or "",
            f"steps-{n}-person": person.pk if person else "",
            f"steps-{n}-wait_minutes": wait,
        }
    return data


def test_an_admin_sets_up_a_policy_and_its_rules_hold(client, people):
    client.force_login(people[Role.ADMIN])
    rota = make_rota()
    url = reverse("admin:oncall_escalationpolicy_add")

    refused = client.post(url, policy_post(rota, (1, None, 45), (None, None, 10)))
    text = refused.content.decode()
    assert refused.status_code == 200
    assert "The first acknowledgement deadline is at most 30 minutes." in text
    assert "A step pages either a rota layer or a named person." in text
    assert not EscalationPolicy.objects.exists()

    saved = client.post(
        url, policy_post(rota, (1, None, 20), (2, None, 15), (None, people[Role.SPECIALIST], 10))
    )
    assert saved.status_code == 302
    policy = EscalationPolicy.objects.get()
    assert list(policy.steps.values_list("position", "wait_minutes")) == [(1, 20), (2, 15), (3, 10)]

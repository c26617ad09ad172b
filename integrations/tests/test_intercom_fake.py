"""The fake Intercom (integrations/intercom/fake/) over real HTTP: every endpoint's happy path and
error cases, each response checked against the official OpenAPI description (see intercom_openapi)
and for its `type`; then the knobs: rate limit, search lag, injected failures, latency, dropped
connections, downtime and reset."""

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
import requests

from integrations.intercom.fake import (
    API_VERSION,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TOKEN,
    ME_ADMIN_ID,
    SUPPORT_TEAM_ID,
    FakeIntercom,
    RecordedRequest,
)
from integrations.tests.intercom_openapi import REPO_ROOT, check, check_error
from integrations.tests.waiting import wait_until

ADA = "991267002"
START = dt.datetime(2026, 3, 10, 15, 30, tzinfo=dt.UTC).timestamp()  # a Tuesday afternoon, UTC
DAY = 86400


class FakeClock:
    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A requests session aimed at the fake, with the headers a real client sends."""

    def __init__(self, fake: FakeIntercom):
        self.fake = fake
        self.session = requests.Session()
        self.session.headers.update(fake.headers())

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.fake.url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # Shortcuts for setting the scene through the API itself.
    def create_contact(self, **fields) -> dict:
        return check(self.post("/contacts", fields), 200, "contact")

    def create_attribute(self, name: str, data_type: str = "string") -> dict:
        body = {"name": name, "model": "contact", "data_type": data_type}
        return check(self.post("/data_attributes", body), 200, "data_attribute")

    def create_tag(self, name: str) -> dict:
        return check(self.post("/tags", {"name": name}), 200, "tag")

    def search_contacts(self, query: dict, **extra) -> dict:
        return check(self.post("/contacts/search", {"query": query, **extra}), 200, "list", items="contact")


@pytest.fixture(scope="module")
def server():
    with FakeIntercom(search_delay_seconds=0) as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset()
    yield server
    assert not server.internal_errors, server.internal_errors


@pytest.fixture
def api(fake):
    return Api(fake)


@pytest.fixture
def clocked():
    """A fake of its own on a clock the test moves, with the default 2 s search delay."""
    clock = FakeClock()
    with FakeIntercom(clock=clock) as fake:
        fake.test_clock = clock
        yield fake
        assert not fake.internal_errors, fake.internal_errors


def email_is(value: str) -> dict:
    return {"field": "email", "operator": "=", "value": value}


# ------------------------------------------------------------------------------------------------
# Auth, workspace, admins, teams
# ------------------------------------------------------------------------------------------------


def test_me_is_the_tokens_admin_with_the_workspace(api):
    me = check(api.get("/me"), 200, "admin")
    assert me["id"] == ME_ADMIN_ID
    assert me["app"]["type"] == "app"
    assert me["app"]["region"] == "US"
    assert me["app"]["timezone"] == "UTC"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {DEFAULT_TOKEN}", DEFAULT_TOKEN]
)
def test_a_missing_or_wrong_token_is_401_unauthorized(api, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    if authorization is None:
        api.session.headers.pop("Authorization")
    response = api.get("/admins", headers=headers)
    check_error(response, 401, "unauthorized", message="Access Token Invalid")


def test_the_expected_token_is_configurable(api, fake):
    fake.configure(token="other-secret")
    check_error(api.get("/me"), 401, "unauthorized")
    assert check(api.get("/me", headers={"Authorization": "Bearer other-secret"}), 200, "admin")


def test_admins_list_and_retrieve(api):
    admins = check(api.get("/admins"), 200, "admin.list", items="admin")["admins"]
    assert {a["id"] for a in admins} == {ME_ADMIN_ID, ADA, "991267003"}
    assert all(a["email"] for a in admins)
    ada = check(api.get(f"/admins/{ADA}"), 200, "admin")
    assert ada["team_ids"] == [int(SUPPORT_TEAM_ID)]
    check_error(
        api.get("/admins/123"), 404, "admin_not_found", message="Admin not found", request_matches_spec=True
    )


def test_teams_list_and_retrieve(api):
    teams = check(api.get("/teams"), 200, "team.list", items="team")["teams"]
    assert [t["id"] for t in teams] == [SUPPORT_TEAM_ID]
    team = check(api.get(f"/teams/{SUPPORT_TEAM_ID}"), 200, "team")
    assert team["admin_ids"] == [int(ADA), 991267003]
    check_error(api.get("/teams/999"), 404, "team_not_found", request_matches_spec=True)


def test_an_unknown_route_is_a_404_error_list(api):
    check_error(
        api.get("/no/such/thing"), 404, "not_found", message="Resource Not Found", route_in_spec=False
    )


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.post("/contacts", data=b"{not json", headers={"Content-Type": "application/json"})
    check_error(response, 400, "parameter_invalid")
    check_error(api.post("/contacts", ["a", "list"]), 400, "parameter_invalid")


# ------------------------------------------------------------------------------------------------
# Contacts
# ------------------------------------------------------------------------------------------------


def test_create_retrieve_and_find_a_user_by_external_id(api):
    created = api.create_contact(role="user", external_id="u-1", email="Ann@Example.com", name="Ann")
    assert len(created["id"]) == 24 and int(created["id"], 16) >= 0
    assert created["role"] == "user"
    assert created["email_domain"] == "Example.com"
    assert created["custom_attributes"] == {}
    assert created["tags"] == {
        "type": "list",
        "data": [],
        "url": f"/contacts/{created['id']}/tags",
        "total_count": 0,
        "has_more": False,
    }
    assert created["created_at"] == created["updated_at"] == created["signed_up_at"]

    fetched = check(api.get(f"/contacts/{created['id']}"), 200, "contact")
    assert fetched == created
    found = check(api.get("/contacts/find_by_external_id/u-1"), 200, "contact")
    assert found["id"] == created["id"]


def test_find_by_external_id_decodes_the_path_and_ignores_leads(api):
    user = api.create_contact(external_id="acct/42 é")
    found = check(api.get("/contacts/find_by_external_id/acct%2F42%20%C3%A9"), 200, "contact")
    assert found["id"] == user["id"]
    api.create_contact(role="lead", external_id="lead-1")
    # "This endpoint only supports users and not leads."
    check_error(api.get("/contacts/find_by_external_id/lead-1"), 404, "not_found", message="User Not Found")
    check_error(api.get("/contacts/find_by_external_id/nobody"), 404, "not_found", message="User Not Found")


def test_a_lead_needs_only_a_role(api):
    lead = api.create_contact(role="lead")
    assert lead["role"] == "lead"
    assert lead["email"] == "" and lead["external_id"] is None and lead["signed_up_at"] is None


def test_create_needs_an_email_an_external_id_or_a_role(api):
    check_error(api.post("/contacts", {"name": "Nobody"}), 400, "parameter_invalid")


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin", "email": "a@example.com"},
        {"email": "not-an-address"},
        {"external_id": 42},
        {"email_verified": True, "external_id": "x"},  # email_verified only together with email
        {"external_id": "x", "owner_id": "123"},
        {"external_id": "x", "signed_up_at": "yesterday"},
    ],
)
def test_create_refuses_bad_fields(api, body):
    check_error(api.post("/contacts", body), 400, "parameter_invalid")


def test_duplicates_are_a_409_conflict_naming_the_existing_contact(api):
    first = api.create_contact(external_id="dup", email="dup@example.com")
    message = f"A contact matching those details already exists with id={first['id']}"
    check_error(api.post("/contacts", {"external_id": "dup"}), 409, "conflict", message=message)
    check_error(api.post("/contacts", {"email": "DUP@example.com"}), 409, "conflict", message=message)
    # Leads may share an e-mail address with a user (and with each other).
    api.create_contact(role="lead", email="dup@example.com")
    api.create_contact(role="lead", email="dup@example.com")


def test_owner_id_is_a_string_in_2_16(api):
    contact = api.create_contact(external_id="o", owner_id=ADA)
    assert contact["owner_id"] == ADA


def test_retrieving_an_unknown_contact_is_404(api):
    check_error(api.get("/contacts/6762f0d01bb69f9f2193bb7d"), 404, "not_found", message="User Not Found")


def test_update_merges_custom_attributes_that_exist(api):
    api.create_attribute("plan")
    api.create_attribute("seats", "integer")
    contact = api.create_contact(external_id="u-2", custom_attributes={"plan": "pro"})
    assert contact["custom_attributes"] == {"plan": "pro"}

    updated = check(
        api.put(f"/contacts/{contact['id']}", {"name": "Bo", "custom_attributes": {"seats": 5}}),
        200,
        "contact",
    )
    assert updated["name"] == "Bo"
    assert updated["custom_attributes"] == {"plan": "pro", "seats": 5}
    cleared = check(
        api.put(f"/contacts/{contact['id']}", {"custom_attributes": {"plan": None}}), 200, "contact"
    )
    assert cleared["custom_attributes"] == {"seats": 5}


def test_a_custom_attribute_must_be_created_first(api):
    contact = api.create_contact(external_id="u-3")
    response = api.put(f"/contacts/{contact['id']}", {"custom_attributes": {"tier": "gold"}})
    check_error(response, 400, "parameter_not_found", message="Custom attribute 'tier' does not exist")
    check_error(
        api.post("/contacts", {"external_id": "u-4", "custom_attributes": {"tier": "x"}}),
        400,
        "parameter_not_found",
    )
    assert api.fake.get_contact(contact["id"])["custom_attributes"] == {}


def test_update_errors(api):
    user = api.create_contact(external_id="u-5")
    api.create_contact(external_id="taken")
    check_error(
        api.put("/contacts/000000000000000000000000", {"name": "x"}),
        404,
        "not_found",
        message="User Not Found",
    )
    check_error(api.put(f"/contacts/{user['id']}", {"external_id": "taken"}), 409, "conflict")
    check_error(
        api.put(f"/contacts/{user['id']}", {"role": "lead"}),
        400,
        "client_error",
        message="Contact with user role can't be converted to a lead",
    )


def test_update_bumps_updated_at(clocked):
    api = Api(clocked)
    contact = api.create_contact(external_id="u-6")
    clocked.test_clock.advance(60)
    updated = check(api.put(f"/contacts/{contact['id']}", {"phone": "+3531234"}), 200, "contact")
    assert updated["updated_at"] == contact["updated_at"] + 60
    assert updated["created_at"] == contact["created_at"]


def test_delete_a_contact(api):
    contact = api.create_contact(external_id="gone")
    deleted = check(api.delete(f"/contacts/{contact['id']}"), 200, "contact")
    assert deleted == {"type": "contact", "id": contact["id"], "external_id": "gone", "deleted": True}
    check_error(api.get(f"/contacts/{contact['id']}"), 404, "not_found")


def test_list_contacts_with_cursor_pages(api):
    ids = [api.create_contact(external_id=f"l-{i}")["id"] for i in range(5)]
    first = check(api.get("/contacts", params={"per_page": 2}), 200, "list", items="contact")
    assert first["total_count"] == 5
    assert first["pages"]["page"] == 1 and first["pages"]["total_pages"] == 3
    seen = [c["id"] for c in first["data"]]
    pages = first["pages"]
    while pages.get("next"):
        params = {"per_page": 2, "starting_after": pages["next"]["starting_after"]}
        body = check(api.get("/contacts", params=params), 200, "list", items="contact")
        seen += [c["id"] for c in body["data"]]
        pages = body["pages"]
    assert seen == ids
    assert pages["page"] == 3 and "next" not in pages


# ------------------------------------------------------------------------------------------------
# Contact search
# ------------------------------------------------------------------------------------------------


def test_search_by_email_and_external_id(api):
    ann = api.create_contact(external_id="s-1", email="ann@example.com")
    api.create_contact(external_id="s-2", email="bob@example.com")
    body = api.search_contacts(email_is("ann@example.com"))
    assert [c["id"] for c in body["data"]] == [ann["id"]]
    assert body["total_count"] == 1
    assert body["pages"] == {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1}

    query = {
        "operator": "AND",
        "value": [email_is("ann@example.com"), {"field": "external_id", "operator": "=", "value": "s-1"}],
    }
    assert [c["id"] for c in api.search_contacts(query)["data"]] == [ann["id"]]
    query = {
        "operator": "OR",
        "value": [email_is("ann@example.com"), {"field": "external_id", "operator": "=", "value": "s-2"}],
    }
    assert api.search_contacts(query)["total_count"] == 2
    assert api.search_contacts(email_is("nobody@example.com"))["data"] == []


def test_search_operators_and_nesting(api):
    for i, domain in enumerate(["a.com", "b.com", "a.com", "c.org"]):
        api.create_contact(external_id=f"n-{i}", email=f"p{i}@{domain}", name=f"Person {i}")
    nested = {
        "operator": "AND",
        "value": [
            {
                "operator": "OR",
                "value": [
                    {"field": "email_domain", "operator": "=", "value": "a.com"},
                    {"field": "name", "operator": "$", "value": "3"},
                ],
            },
            {
                "operator": "OR",
                "value": [{"field": "external_id", "operator": "IN", "value": ["n-0", "n-3"]}],
            },
        ],
    }
    assert sorted(c["external_id"] for c in api.search_contacts(nested)["data"]) == ["n-0", "n-3"]
    assert api.search_contacts({"field": "email", "operator": "~", "value": "@a."})["total_count"] == 2
    assert (
        api.search_contacts({"field": "external_id", "operator": "NIN", "value": ["n-0"]})["total_count"] == 3
    )
    assert api.search_contacts({"field": "name", "operator": "^", "value": "person"})["total_count"] == 4
    assert api.search_contacts({"field": "email", "operator": "!~", "value": ".com"})["total_count"] == 1


def test_search_pages_with_starting_after(api):
    for i in range(5):
        api.create_contact(external_id=f"p-{i}", email=f"page{i}@example.com")
    query = {"field": "email", "operator": "$", "value": "@example.com"}
    body = api.search_contacts(query, pagination={"per_page": 2})
    seen = [c["external_id"] for c in body["data"]]
    while body["pages"].get("next"):
        cursor = body["pages"]["next"]["starting_after"]
        assert body["pages"]["next"]["per_page"] == 2
        body = api.search_contacts(query, pagination={"per_page": 2, "starting_after": cursor})
        seen += [c["external_id"] for c in body["data"]]
    assert seen == [f"p-{i}" for i in range(5)]
    assert body["pages"]["page"] == 3 and body["pages"]["total_pages"] == 3


def test_search_sorts(api):
    for name in ["Carol", "Alice", "Bob"]:
        api.create_contact(external_id=name, name=name)
    query = {"field": "role", "operator": "=", "value": "user"}
    ascending = api.search_contacts(query, sort={"field": "name", "order": "ascending"})
    assert [c["name"] for c in ascending["data"]] == ["Alice", "Bob", "Carol"]
    descending = api.search_contacts(query, sort={"field": "name"})  # descending is the default
    assert [c["name"] for c in descending["data"]] == ["Carol", "Bob", "Alice"]


def test_an_invalid_sort_order_is_the_documented_400(api):
    body = {"query": email_is("a@example.com"), "sort": {"field": "name", "order": "desc"}}
    check_error(
        api.post("/contacts/search", body),
        400,
        "invalid_sort_order",
        message="Invalid sort order 'desc'. Must be one of: ascending, descending",
    )


@pytest.mark.parametrize(
    "query",
    [
        {"field": "favourite_colour", "operator": "=", "value": "blue"},  # not a searchable field
        {"field": "custom_attributes.missing", "operator": "=", "value": "x"},
        {"field": "external_id", "operator": "IN", "value": "not-a-list"},
        {"field": "created_at", "operator": ">=", "value": 1700000000},  # not on date fields
        {"field": "created_at", "operator": "=", "value": "yesterday"},
        {"field": "tag_id", "operator": "IN", "value": ["1"]},  # tag_id: = and != only
        {"field": "email", "operator": ">", "value": "a"},
        {
            "operator": "AND",
            "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [email_is("a@b.c")]}]}],
        },
        {"operator": "OR", "value": [email_is(f"{i}@example.com") for i in range(16)]},
    ],
)
def test_search_refuses_bad_queries(api, query):
    check_error(api.post("/contacts/search", {"query": query}), 400, "parameter_invalid")


def test_search_needs_a_query_and_a_sane_page_size(api):
    check_error(api.post("/contacts/search", {}), 400, "parameter_not_found")
    body = {"query": email_is("a@b.c"), "pagination": {"per_page": 151}}
    check_error(api.post("/contacts/search", body), 400, "parameter_invalid")
    body = {"query": email_is("a@b.c"), "pagination": {"starting_after": "garbage"}}
    check_error(api.post("/contacts/search", body), 400, "parameter_invalid")


def test_search_by_custom_attribute_and_tag(api):
    api.create_attribute("plan")
    pro = api.create_contact(external_id="c-1", custom_attributes={"plan": "pro"})
    api.create_contact(external_id="c-2", custom_attributes={"plan": "free"})
    query = {"field": "custom_attributes.plan", "operator": "IN", "value": ["pro", "team"]}
    assert [c["id"] for c in api.search_contacts(query)["data"]] == [pro["id"]]

    vip = api.create_tag("VIP")
    check(api.post(f"/contacts/{pro['id']}/tags", {"id": vip["id"]}), 200, "tag")
    tagged = api.search_contacts({"field": "tag_id", "operator": "=", "value": vip["id"]})
    assert [c["id"] for c in tagged["data"]] == [pro["id"]]
    untagged = api.search_contacts({"field": "tag_id", "operator": "!=", "value": vip["id"]})
    assert [c["external_id"] for c in untagged["data"]] == ["c-2"]


def test_search_matches_dates_by_calendar_day_in_the_workspace_timezone(clocked):
    clocked.configure(search_delay_seconds=0)
    api = Api(clocked)
    contact = api.create_contact(external_id="d-1")  # created 2026-03-10 15:30 UTC
    created = contact["created_at"]
    midnight = int(dt.datetime(2026, 3, 10, tzinfo=dt.UTC).timestamp())

    def found(operator: str, value: int) -> bool:
        body = api.search_contacts({"field": "created_at", "operator": operator, "value": value})
        return [c["id"] for c in body["data"]] == [contact["id"]]

    assert found("=", midnight) and found("=", midnight + DAY - 1)
    assert not found("=", midnight + DAY)
    assert not found(">", created - 3600)  # > starts at the next day, not at the instant given
    assert found(">", midnight - 1)
    assert not found("<", created + 3600)  # < ends at the start of the value's day
    assert found("<", midnight + DAY)
    # In Los Angeles (UTC-7 in March) the contact was created on 10 March, 08:30 local time.
    clocked.configure(workspace_timezone="America/Los_Angeles")
    la_midnight = int(dt.datetime(2026, 3, 10, 7, tzinfo=dt.UTC).timestamp())
    assert found("=", la_midnight) and not found("=", midnight)


def test_a_new_contact_is_searchable_only_after_the_delay(clocked):
    api = Api(clocked)
    assert clocked.search_delay_seconds == 2.0
    contact = api.create_contact(external_id="lag", email="lag@example.com")
    assert api.search_contacts(email_is("lag@example.com"))["data"] == []
    # Retrieval by id and by external id is immediate: that is how clients must avoid duplicates.
    check(api.get(f"/contacts/{contact['id']}"), 200, "contact")
    check(api.get("/contacts/find_by_external_id/lag"), 200, "contact")
    clocked.test_clock.advance(1.9)
    assert api.search_contacts(email_is("lag@example.com"))["data"] == []
    clocked.test_clock.advance(0.1)
    assert [c["id"] for c in api.search_contacts(email_is("lag@example.com"))["data"]] == [contact["id"]]


def test_search_shows_the_old_version_until_the_index_catches_up(clocked):
    api = Api(clocked)
    contact = api.create_contact(external_id="v", email="old@example.com")
    clocked.test_clock.advance(5)
    check(api.put(f"/contacts/{contact['id']}", {"email": "new@example.com"}), 200, "contact")
    assert api.search_contacts(email_is("new@example.com"))["data"] == []
    stale = api.search_contacts(email_is("old@example.com"))["data"]
    assert [c["email"] for c in stale] == ["old@example.com"]
    clocked.test_clock.advance(2)
    assert api.search_contacts(email_is("old@example.com"))["data"] == []
    assert api.search_contacts(email_is("new@example.com"))["total_count"] == 1
    # A deleted contact also lingers in search for the delay.
    check(api.delete(f"/contacts/{contact['id']}"), 200, "contact")
    assert api.search_contacts(email_is("new@example.com"))["total_count"] == 1
    clocked.test_clock.advance(2)
    assert api.search_contacts(email_is("new@example.com"))["total_count"] == 0


def test_flush_search_index_and_seeded_contacts(clocked):
    api = Api(clocked)
    seeded = clocked.add_contact(external_id="seed", email="seed@example.com")  # searchable at once
    assert [c["id"] for c in api.search_contacts(email_is("seed@example.com"))["data"]] == [seeded["id"]]
    api.create_contact(external_id="fresh", email="fresh@example.com")
    clocked.flush_search_index()
    assert api.search_contacts(email_is("fresh@example.com"))["total_count"] == 1


def test_without_a_clock_of_its_own_the_search_lag_runs_on_real_time(fake):
    """What `make run`, the demo and the portal's tests get. The lag itself is tested on a clock the
    test moves (`clocked`); this one waits for the real seconds to pass."""
    delay = 0.5
    fake.configure(search_delay_seconds=delay)
    api = Api(fake)
    before = time.time()  # the fake's clock: the contact is indexed at a moment after this
    api.create_contact(external_id="rt", email="rt@example.com")

    def found_at():
        return api.search_contacts(email_is("rt@example.com"))["total_count"] == 1 and time.time()

    seen_at = wait_until(found_at, timeout=delay + 10, what="the new contact to become searchable")
    assert seen_at >= before + delay  # and not before the lag was over


# ------------------------------------------------------------------------------------------------
# Data attributes
# ------------------------------------------------------------------------------------------------


def test_list_and_create_data_attributes(api):
    listed = check(
        api.get("/data_attributes", params={"model": "contact"}), 200, "list", items="data_attribute"
    )
    assert {a["model"] for a in listed["data"]} == {"contact"}
    assert "email" in {a["name"] for a in listed["data"]}

    created = check(
        api.post(
            "/data_attributes",
            {"name": "health score", "model": "contact", "data_type": "integer", "description": "0-100"},
        ),
        200,
        "data_attribute",
    )
    assert created["full_name"] == "custom_attributes.health score"
    assert created["custom"] is True and created["api_writable"] is True
    assert isinstance(created["id"], int)
    listed = check(
        api.get("/data_attributes", params={"model": "contact"}), 200, "list", items="data_attribute"
    )
    assert created in listed["data"]
    everything = check(api.get("/data_attributes"), 200, "list", items="data_attribute")
    assert {"contact", "company"} <= {a["model"] for a in everything["data"]}


def test_data_attribute_types_map_to_the_response_enum(api):
    date = check(
        api.post("/data_attributes", {"name": "renewal", "model": "contact", "data_type": "datetime"}),
        200,
        "data_attribute",
    )
    assert date["data_type"] == "date"
    body = {
        "name": "tier",
        "model": "contact",
        "data_type": "options",
        "options": [{"value": "gold"}, {"value": "silver"}],
    }
    options = check(api.post("/data_attributes", body), 200, "data_attribute")
    assert options["data_type"] == "string" and options["options"] == ["gold", "silver"]


def test_duplicate_data_attribute_names_are_refused_across_models(api):
    api.create_attribute("The One Ring")
    check_error(
        api.post("/data_attributes", {"name": "The One Ring", "model": "contact", "data_type": "string"}),
        400,
        "parameter_invalid",
        message="You already have 'The One Ring' in your people data. To save this as new people data, use a different name.",
        request_matches_spec=True,
    )
    check_error(
        api.post("/data_attributes", {"name": "the one ring", "model": "company", "data_type": "string"}),
        400,
        "parameter_invalid",
        message="You already have 'The One Ring' in your people data. To save this as new company data, use a different name.",
        request_matches_spec=True,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "!nv@l!d n@me", "model": "company", "data_type": "string"},
            "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens",
        ),
        (
            {"name": "The Second Ring", "model": "company", "data_type": "mithril"},
            "Data Type isn't an option",
        ),
        (
            {"name": "x", "model": "ticket", "data_type": "string"},
            "The Data Attribute model field must be either contact or company",
        ),
        ({"name": "x", "model": "contact", "data_type": "options", "options": [{"value": "only"}]}, None),
    ],
)
def test_bad_data_attributes_are_400_parameter_invalid(api, body, message):
    check_error(api.post("/data_attributes", body), 400, "parameter_invalid", message=message)


def test_a_data_attribute_needs_name_model_and_type(api):
    check_error(api.post("/data_attributes", {"name": "x", "model": "contact"}), 400, "parameter_not_found")


def test_conversation_attributes_moved_out_in_2_16(api):
    check_error(
        api.get("/data_attributes", params={"model": "conversation"}),
        422,
        "parameter_invalid",
        message="model=conversation is no longer supported. Use GET /conversations/attributes instead",
    )


# ------------------------------------------------------------------------------------------------
# Tags
# ------------------------------------------------------------------------------------------------


def test_create_list_retrieve_and_rename_tags(api):
    vip = api.create_tag("VIP")
    assert set(vip) == {"type", "id", "name"}
    again = api.create_tag("vip")  # names are case-insensitive: the existing tag comes back
    assert again == vip
    check(api.post("/tags", {"name": "Churn risk"}), 200, "tag")
    listed = check(api.get("/tags"), 200, "list", items="tag")
    assert [t["name"] for t in listed["data"]] == ["VIP", "Churn risk"]
    assert check(api.get(f"/tags/{vip['id']}"), 200, "tag")["name"] == "VIP"
    renamed = check(api.post("/tags", {"id": vip["id"], "name": "Very Important"}), 200, "tag")
    assert renamed["id"] == vip["id"] and renamed["name"] == "Very Important"


def test_tag_errors(api):
    check_error(
        api.post("/tags", {"test": "invalid"}), 400, "parameter_invalid", message="invalid tag parameters"
    )
    check_error(
        api.get("/tags/999999"), 404, "not_found", message="Resource Not Found", request_matches_spec=True
    )
    check_error(api.post("/tags", {"id": "999999", "name": "x"}), 404, "not_found")


def test_tag_and_untag_a_contact(api):
    contact = api.create_contact(external_id="t-1")
    vip = api.create_tag("VIP")
    tagged = check(api.post(f"/contacts/{contact['id']}/tags", {"id": vip["id"]}), 200, "tag")
    assert tagged["id"] == vip["id"] and tagged["name"] == "VIP"
    assert isinstance(tagged["applied_at"], int)
    assert tagged["applied_by"] == {"type": "admin", "id": ME_ADMIN_ID}
    # Tagging twice is harmless.
    assert check(api.post(f"/contacts/{contact['id']}/tags", {"id": vip["id"]}), 200, "tag") == tagged

    inline = check(api.get(f"/contacts/{contact['id']}"), 200, "contact")["tags"]
    assert inline["data"] == [{"type": "tag", "id": vip["id"], "url": f"/tags/{vip['id']}"}]
    assert inline["total_count"] == 1
    listed = check(api.get(f"/contacts/{contact['id']}/tags"), 200, "list", items="tag")
    assert listed["data"] == [tagged]

    untagged = check(api.delete(f"/contacts/{contact['id']}/tags/{vip['id']}"), 200, "tag")
    assert untagged["id"] == vip["id"]
    assert check(api.get(f"/contacts/{contact['id']}/tags"), 200, "list")["data"] == []


def test_a_contact_inlines_at_most_ten_tags(api):
    contact = api.create_contact(external_id="many-tags")
    for i in range(12):
        tag = api.create_tag(f"tag {i}")
        check(api.post(f"/contacts/{contact['id']}/tags", {"id": tag["id"]}), 200, "tag")
    inline = check(api.get(f"/contacts/{contact['id']}"), 200, "contact")["tags"]
    assert len(inline["data"]) == 10 and inline["total_count"] == 12 and inline["has_more"] is True
    assert len(check(api.get(f"/contacts/{contact['id']}/tags"), 200, "list")["data"]) == 12


def test_tagging_unknown_contacts_or_tags_is_404(api):
    contact = api.create_contact(external_id="t-2")
    vip = api.create_tag("VIP")
    unknown = "6762f0ab1bb69f9f2193bb60"
    for response in (
        api.post(f"/contacts/{unknown}/tags", {"id": vip["id"]}),
        api.delete(f"/contacts/{unknown}/tags/{vip['id']}"),
        api.get(f"/contacts/{unknown}/tags"),
    ):
        check_error(response, 404, "not_found", message="User Not Found", request_matches_spec=True)
    for response in (
        api.post(f"/contacts/{contact['id']}/tags", {"id": "123"}),
        api.delete(f"/contacts/{contact['id']}/tags/123"),
    ):
        check_error(response, 404, "not_found", message="Resource Not Found", request_matches_spec=True)
    check_error(api.post(f"/contacts/{contact['id']}/tags", {}), 400, "parameter_not_found")


def test_tag_several_users_at_once(api):
    a = api.create_contact(external_id="ta")
    b = api.create_contact(external_id="tb")
    # The spec's request schema for POST /tags is a oneOf whose first branch also matches this
    # body, so no request validates against it: the request is not checked, the response is.
    body = {"name": "Beta", "users": [{"id": a["id"]}, {"id": b["id"]}]}
    tag = check(api.post("/tags", body), 200, "tag", request_matches_spec=False)
    assert tag["users"] == [{"id": a["id"], "tagged": True}, {"id": b["id"], "tagged": True}]
    assert check(api.get(f"/contacts/{b['id']}/tags"), 200, "list")["data"][0]["name"] == "Beta"


# ------------------------------------------------------------------------------------------------
# Notes
# ------------------------------------------------------------------------------------------------


def test_create_list_and_retrieve_notes(api):
    contact = api.create_contact(external_id="n-1")
    # The request is validated too: the spec types this contact_id as an integer, which the
    # validator's copy corrects (see intercom_openapi.SPEC_CORRECTIONS).
    note = check(
        api.post(f"/contacts/{contact['id']}/notes", {"body": "Called: <renewal> due", "admin_id": ADA}),
        200,
        "note",
    )
    assert note["contact"] == {"type": "contact", "id": contact["id"]}
    assert note["author"]["type"] == "admin" and note["author"]["id"] == ADA
    assert note["body"] == "<p>Called: &lt;renewal&gt; due</p>"
    html_note = check(
        api.post(f"/contacts/{contact['id']}/notes", {"body": "<p>Already <b>HTML</b></p>"}), 200, "note"
    )
    assert html_note["body"] == "<p>Already <b>HTML</b></p>"
    assert html_note["author"]["id"] == ME_ADMIN_ID  # without admin_id, the token's admin

    listed = check(api.get(f"/contacts/{contact['id']}/notes"), 200, "list", items="note")
    assert [n["id"] for n in listed["data"]] == [html_note["id"], note["id"]]  # newest first
    assert listed["total_count"] == 2
    assert check(api.get(f"/notes/{note['id']}"), 200, "note") == note
    inline = check(api.get(f"/contacts/{contact['id']}"), 200, "contact")["notes"]
    assert inline["total_count"] == 2 and inline["data"][0]["type"] == "note"


def test_note_errors(api):
    contact = api.create_contact(external_id="n-2")
    check_error(
        api.post("/contacts/6762f0af1bb69f9f2193bb63/notes", {"body": "x", "admin_id": ADA}),
        404,
        "not_found",
        message="User Not Found",
        request_matches_spec=True,
    )
    check_error(
        api.post(f"/contacts/{contact['id']}/notes", {"body": "x", "admin_id": "123"}),
        404,
        "not_found",
        message="Resource Not Found",
        request_matches_spec=True,
    )
    check_error(api.post(f"/contacts/{contact['id']}/notes", {"admin_id": ADA}), 400, "parameter_not_found")
    check_error(
        api.get("/contacts/6762f0af1bb69f9f2193bb63/notes"), 404, "not_found", message="User Not Found"
    )
    check_error(api.get("/notes/424242"), 404, "not_found")


# ------------------------------------------------------------------------------------------------
# Conversations
# ------------------------------------------------------------------------------------------------


def test_retrieve_a_seeded_conversation(api, fake):
    contact = api.create_contact(external_id="cv-1", email="cv@example.com", name="Cy")
    seeded = fake.add_conversation(
        contact["id"], "My export <fails>", title="Export", custom_attributes={"order": "A-1"}
    )
    conversation = check(api.get(f"/conversations/{seeded['id']}"), 200, "conversation")
    assert conversation == seeded
    assert conversation["contacts"] == {
        "type": "contact.list",
        "contacts": [{"type": "contact", "id": contact["id"], "external_id": "cv-1"}],
    }
    assert conversation["source"]["body"] == "<p>My export &lt;fails&gt;</p>"
    assert conversation["source"]["author"] == {
        "type": "user",
        "id": contact["id"],
        "name": "Cy",
        "email": "cv@example.com",
    }
    assert (
        conversation["admin_assignee_id"] == 0 and conversation["team_assignee_id"] == 0
    )  # 2.16: 0, not null
    assert (
        conversation["priority"] == "none"
        and conversation["state"] == "open"
        and conversation["open"] is True
    )
    assert conversation["waiting_since"] == conversation["created_at"]
    assert conversation["tags"] == {"type": "tag.list", "tags": []}
    assert conversation["conversation_parts"] == {
        "type": "conversation_part.list",
        "conversation_parts": [],
        "total_count": 0,
    }
    plain = check(
        api.get(f"/conversations/{seeded['id']}", params={"display_as": "plaintext"}), 200, "conversation"
    )
    assert plain["source"]["body"] == "My export <fails>"


def test_retrieving_an_unknown_conversation_is_404(api):
    check_error(
        api.get("/conversations/123"),
        404,
        "not_found",
        message="Resource Not Found",
        request_matches_spec=True,
    )


def test_the_python_helpers_validate_like_the_api(fake):
    with pytest.raises(ValueError, match="unknown contact"):
        fake.add_conversation("6762f0ab1bb69f9f2193bb60")
    fake.add_contact(external_id="h-1")
    with pytest.raises(ValueError, match="already exists"):
        fake.add_contact(external_id="h-1")
    fake.add_data_attribute("plan")
    with pytest.raises(ValueError, match="You already have 'plan'"):
        fake.add_data_attribute("plan")


def test_reply_with_a_note_and_a_comment(clocked):
    api = Api(clocked)
    contact = api.create_contact(external_id="r-1")
    conversation = clocked.add_conversation(contact["id"], "Help")
    clocked.test_clock.advance(120)

    body = {"message_type": "note", "type": "admin", "admin_id": ADA, "body": "Synced from portal ticket #42"}
    noted = check(api.post(f"/conversations/{conversation['id']}/reply", body), 200, "conversation")
    (part,) = noted["conversation_parts"]["conversation_parts"]
    assert part["type"] == "conversation_part" and part["part_type"] == "note"
    assert part["body"] == "<p>Synced from portal ticket #42</p>"
    assert part["author"]["type"] == "admin" and part["author"]["id"] == ADA
    assert noted["updated_at"] == conversation["updated_at"] + 120
    assert noted["waiting_since"] == conversation["waiting_since"]  # a note does not answer the customer
    assert noted["teammates"] == {"type": "admin.list", "teammates": [{"type": "admin", "id": ADA}]}

    body = {"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "<p>On it.</p>"}
    answered = check(api.post(f"/conversations/{conversation['id']}/reply", body), 200, "conversation")
    assert answered["waiting_since"] is None
    assert answered["conversation_parts"]["total_count"] == 2

    body = {"message_type": "comment", "type": "user", "intercom_user_id": contact["id"], "body": "Thanks!"}
    replied = check(api.post("/conversations/last/reply", body), 200, "conversation")
    assert replied["id"] == conversation["id"]
    assert replied["conversation_parts"]["conversation_parts"][-1]["author"]["type"] == "user"
    assert replied["waiting_since"] == clocked.test_clock.now


def test_reply_errors(api, fake):
    contact = api.create_contact(external_id="r-2")
    conversation = fake.add_conversation(contact["id"])
    path = f"/conversations/{conversation['id']}/reply"
    note = {"message_type": "note", "type": "admin", "admin_id": ADA, "body": "x"}
    check_error(
        api.post("/conversations/999/reply", note),
        404,
        "not_found",
        message="Resource Not Found",
        request_matches_spec=True,
    )
    check_error(api.post(path, {**note, "admin_id": "123"}), 404, "admin_not_found")
    check_error(api.post(path, {**note, "message_type": "shout"}), 400, "parameter_invalid")
    check_error(api.post(path, {**note, "type": "bot"}), 400, "parameter_invalid")
    check_error(
        api.post(path, {key: value for key, value in note.items() if key != "body"}),
        400,
        "parameter_not_found",
    )
    check_error(
        api.post(path, {key: value for key, value in note.items() if key != "admin_id"}),
        400,
        "parameter_not_found",
    )
    user_reply = {
        "message_type": "comment",
        "type": "user",
        "intercom_user_id": "6762f0ab1bb69f9f2193bb60",
        "body": "hi",
    }
    check_error(api.post(path, user_reply), 404, "not_found", message="User Not Found")
    assert fake.get_conversation(conversation["id"])["conversation_parts"]["total_count"] == 0


def test_search_conversations(api, fake):
    ann = api.create_contact(external_id="sc-1")
    bob = api.create_contact(external_id="sc-2")
    old = fake.add_conversation(ann["id"], created_at=1_700_000_000, updated_at=1_700_000_000)
    new = fake.add_conversation(
        ann["id"], "the printer is on fire", created_at=1_800_000_000, updated_at=1_800_000_000
    )
    other = fake.add_conversation(bob["id"], state="closed", admin_assignee_id=int(ADA))

    def search(query: dict, **pagination) -> dict:
        body = {"query": query, "pagination": pagination} if pagination else {"query": query}
        return check(api.post("/conversations/search", body), 200, "conversation.list", items="conversation")

    by_contact = search({"field": "contact_ids", "operator": "=", "value": ann["id"]})
    assert [c["id"] for c in by_contact["conversations"]] == [old["id"], new["id"]]
    assert all("conversation_parts" not in c for c in by_contact["conversations"])
    assert by_contact["total_count"] == 2 and by_contact["pages"]["per_page"] == 20
    # For conversations, > is "greater (or equal)".
    since = search(
        {
            "operator": "AND",
            "value": [
                {"field": "updated_at", "operator": ">", "value": 1_800_000_000},
                {"field": "contact_ids", "operator": "=", "value": ann["id"]},
            ],
        }
    )
    assert [c["id"] for c in since["conversations"]] == [new["id"]]
    assert [
        c["id"]
        for c in search({"field": "source.body", "operator": "=", "value": "printer"})["conversations"]
    ] == [new["id"]]
    assert search({"field": "source.body", "operator": "=", "value": "printer is"})["conversations"] == []
    assert [
        c["id"] for c in search({"field": "state", "operator": "=", "value": "closed"})["conversations"]
    ] == [other["id"]]
    assert [
        c["id"]
        for c in search({"field": "admin_assignee_id", "operator": "=", "value": int(ADA)})["conversations"]
    ] == [other["id"]]
    assert search({"field": "open", "operator": "=", "value": True})["total_count"] == 2

    first = search({"field": "id", "operator": "!=", "value": "0"}, per_page=2)
    assert len(first["conversations"]) == 2 and first["pages"]["total_pages"] == 2
    second = search(
        {"field": "id", "operator": "!=", "value": "0"},
        per_page=2,
        starting_after=first["pages"]["next"]["starting_after"],
    )
    assert [c["id"] for c in second["conversations"]] == [other["id"]] and "next" not in second["pages"]

    check_error(
        api.post("/conversations/search", {"query": {"field": "mood", "operator": "=", "value": "x"}}),
        400,
        "parameter_invalid",
    )


def test_conversation_search_lags_behind_replies(clocked):
    api = Api(clocked)
    contact = api.create_contact(external_id="cl")
    conversation = clocked.add_conversation(
        contact["id"], created_at=int(START) - DAY, updated_at=int(START) - DAY
    )
    body = {"message_type": "note", "type": "admin", "admin_id": ADA, "body": "x"}
    check(api.post(f"/conversations/{conversation['id']}/reply", body), 200, "conversation")
    query = {"query": {"field": "updated_at", "operator": ">", "value": int(START) - 60}}
    assert check(api.post("/conversations/search", query), 200, "conversation.list")["total_count"] == 0
    clocked.test_clock.advance(2)
    assert check(api.post("/conversations/search", query), 200, "conversation.list")["total_count"] == 1


def test_list_conversations(api, fake):
    contact = api.create_contact(external_id="lc")
    ids = [fake.add_conversation(contact["id"], updated_at=1_700_000_000 + i)["id"] for i in range(3)]
    body = check(
        api.get("/conversations", params={"per_page": 2}), 200, "conversation.list", items="conversation"
    )
    assert [c["id"] for c in body["conversations"]] == [ids[2], ids[1]]  # most recently updated first
    assert body["pages"]["next"]["starting_after"]


# ------------------------------------------------------------------------------------------------
# Knobs: rate limit, failures, latency, drops, downtime, reset, logs
# ------------------------------------------------------------------------------------------------


def test_every_response_carries_the_rate_limit_headers(api):
    asked_at = time.time()  # taken before the call: a window may end between the call and the check
    first = api.get("/me")
    second = api.get("/no/such/route")
    assert first.headers["X-RateLimit-Limit"] == str(DEFAULT_RATE_LIMIT) == "1666"
    assert int(first.headers["X-RateLimit-Remaining"]) == 1665
    assert int(second.headers["X-RateLimit-Remaining"]) in (1664, 1665)  # 1665 if a window ended between
    reset = int(first.headers["X-RateLimit-Reset"])
    assert asked_at < reset <= time.time() + 10 and reset % 10 == 0  # epoch end of the 10 s window


def test_over_the_limit_calls_get_429_until_the_window_ends(clocked):
    clocked.configure(rate_limit=3, rate_window_seconds=10)
    api = Api(clocked)
    window_end = int(START // 10 * 10 + 10)
    remaining = [api.get("/me").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = api.get("/me")
    body = check_error(limited, 429, "rate_limit_exceeded", message="Exceeded rate limit of 3 in 10_seconds")
    assert body["request_id"]
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) == window_end
    assert clocked.rate_limited_calls == 1
    clocked.test_clock.now = window_end
    fresh = api.get("/me")
    assert fresh.status_code == 200 and fresh.headers["X-RateLimit-Remaining"] == "2"
    assert int(fresh.headers["X-RateLimit-Reset"]) == window_end + 10


def test_the_rate_limit_can_be_switched_off(api, fake):
    fake.configure(rate_limit=None)
    response = api.get("/me")
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers


def test_the_rate_limit_counts_exactly_under_concurrency(fake):
    fake.configure(rate_limit=50, rate_window_seconds=3600)
    statuses = []
    lock = threading.Lock()

    def worker():
        with requests.Session() as session:
            for _ in range(10):
                status = session.get(f"{fake.url}/me", headers=fake.headers(), timeout=5).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # A window boundary could fall inside the burst (once an hour); then fewer calls are refused.
    assert statuses.count(200) >= 50 and statuses.count(200) + statuses.count(429) == 80
    assert fake.call_count == 80


def test_fail_next_injects_errors_then_recovers(api, fake):
    fake.fail_next(2)
    fake.fail_next(1, status=503)
    check_error(api.get("/me"), 500, "server_error")
    check_error(api.get("/me"), 500, "server_error")
    check_error(api.get("/me"), 503, "service_unavailable")
    check(api.get("/me"), 200, "admin")


def test_fail_next_is_not_a_write(api, fake):
    fake.fail_next()
    check_error(api.post("/contacts", {"external_id": "lost"}), 500, "server_error")
    check_error(api.get("/contacts/find_by_external_id/lost"), 404, "not_found")


def test_fail_rate_injects_errors_at_random(fake):
    fake.configure(fail_rate=1.0, fail_status=502)
    api = Api(fake)
    check_error(api.get("/me"), 502, "bad_gateway")
    fake.configure(fail_rate=0.5)
    statuses = [api.get("/me").status_code for _ in range(40)]
    assert 0 < statuses.count(502) < 40 and set(statuses) == {200, 502}


def test_latency_slows_every_response(api, fake):
    fake.configure(latency_seconds=0.3)
    started = time.monotonic()
    check(api.get("/me"), 200, "admin")
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.Timeout):
        api.get("/me", timeout=0.1)


def test_a_dropped_connection_raises_connection_error(api, fake):
    check(api.get("/me"), 200, "admin")  # a kept-alive connection in the pool
    fake.drop_next()
    with pytest.raises(requests.ConnectionError):
        api.post("/contacts", {"external_id": "dropped"})
    check(api.get("/me"), 200, "admin")
    # The dropped call reached the server and was logged; like a real timeout, nothing was written.
    assert fake.requests_log[-2] == RecordedRequest("POST", "/contacts", {"external_id": "dropped"})
    assert fake.contacts() == []


def test_a_down_service_refuses_connections(api, fake):
    check(api.get("/me"), 200, "admin")  # even a kept-alive connection gets no answer once it is down
    fake.configure(down=True)
    with pytest.raises(requests.ConnectionError):
        api.get("/me")
    fake.configure(down=False)
    check(api.get("/me"), 200, "admin")


def test_requests_are_logged_and_counted_by_route(api, fake):
    contact = api.create_contact(external_id="log")
    api.get(f"/contacts/{contact['id']}")
    api.get(f"/contacts/{contact['id']}", headers={"Intercom-Version": "2.15"})
    api.get("/nowhere")
    assert fake.requests_log[0] == RecordedRequest("POST", "/contacts", {"external_id": "log"})
    assert fake.calls_by_route == {
        "POST /contacts": 1,
        "GET /contacts/{contact_id}": 2,
        "GET (unknown)": 1,
    }
    assert fake.intercom_versions == {API_VERSION: 3, "2.15": 1}
    assert fake.call_count == 4


def test_reset_clears_state_knobs_and_logs(api, fake):
    contact = api.create_contact(external_id="r")
    api.create_tag("VIP")
    api.create_attribute("plan")
    fake.configure(rate_limit=1, latency_seconds=0.01, token="changed")
    fake.fail_next(3)
    fake.drop_next(2)
    fake.reset()
    assert fake.contacts() == [] and fake.call_count == 0 and not fake.calls_by_route
    assert fake.rate_limit == DEFAULT_RATE_LIMIT and fake.latency_seconds == 0 and fake.token == DEFAULT_TOKEN
    assert fake.search_delay_seconds == 0  # the module's server was built with no delay
    check_error(api.get(f"/contacts/{contact['id']}"), 404, "not_found")
    assert check(api.get("/tags"), 200, "list")["data"] == []
    names = {a["name"] for a in check(api.get("/data_attributes"), 200, "list")["data"]}
    assert "plan" not in names and "email" in names
    assert check(api.get("/me"), 200, "admin")["id"] == ME_ADMIN_ID


def test_configure_refuses_unknown_knobs(fake):
    with pytest.raises(TypeError, match="unknown FakeIntercom knobs"):
        fake.configure(rate_limt=5)


def test_start_and_stop(fake):
    other = FakeIntercom()
    with pytest.raises(RuntimeError):
        _ = other.url
    other.start()
    url = other.url
    session = requests.Session()
    assert session.get(f"{url}/me", headers=other.headers(), timeout=5).status_code == 200
    with pytest.raises(RuntimeError):
        other.start()
    other.stop()
    other.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):  # the kept-alive connection was hung up too
        session.get(f"{url}/me", headers=other.headers(), timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/me", headers=other.headers(), timeout=2)


def test_run_fake_intercom_command_serves_until_stopped():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    command = [
        sys.executable,
        "manage.py",
        "run_fake_intercom",
        "--port",
        "0",
        "--token",
        "cmd-token",
        "--rate-limit",
        "7",
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watchdog = threading.Timer(60, process.kill)  # never let a stuck server hang the suite
    watchdog.start()
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Fake Intercom listening on http://127.0.0.1:"), (
            first_line + process.stderr.read()
        )
        url = first_line.split()[-1]
        assert "cmd-token" in process.stdout.readline()
        response = requests.get(f"{url}/me", headers={"Authorization": "Bearer cmd-token"}, timeout=5)
        assert response.status_code == 200 and response.json()["type"] == "admin"
        assert response.headers["X-RateLimit-Limit"] == "7"
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.django_db
def test_the_demo_fake_knows_the_teammates_the_portal_maps_its_users_to(api, fake):
    from django.utils import timezone

    from accounts.tests.factories import specialist_user
    from integrations.management.commands.run_fake_intercom import Command
    from integrations.models import IntercomAdmin

    person = specialist_user(email="lin@example.com")
    now = timezone.now()
    IntercomAdmin.objects.create(
        intercom_id="991260004", name="Lin", email="lin@example.com", portal_user=person, synced_at=now
    )
    IntercomAdmin.objects.create(
        intercom_id="991260005", name="Unmapped", email="x@example.com", synced_at=now
    )
    Command()._portal_teammates(fake)
    Command()._portal_teammates(fake)  # a restart over the same data adds nobody twice
    listed = check(api.get("/admins"), 200, "admin.list")["admins"]
    assert [a["email"] for a in listed if a["id"] == "991260004"] == ["lin@example.com"]
    assert "991260005" not in {a["id"] for a in listed}
    assert api.create_contact(external_id="owned", owner_id="991260004")["owner_id"] == "991260004"


# ------------------------------------------------------------------------------------------------
# The spec check itself must bite
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "status", "type_", "drift"),
    [
        ("/admins/991267002", 200, "admin", lambda body: {**body, "id": 991267002}),  # ids are strings
        (
            "/admins/991267002",
            200,
            "admin",
            lambda body: {**body, "team_ids": ["5017691"]},
        ),  # team ids: integers
        (
            "/conversations/{conversation}",
            200,
            "conversation",
            lambda body: {**body, "priority": "not_priority"},
        ),
        (
            "/conversations/{conversation}",
            200,
            "conversation",
            lambda body: {**body, "admin_assignee_id": None},
        ),
        (
            "/contacts/{contact}",
            200,
            "contact",
            lambda body: {**body, "owner_id": 991267002},
        ),  # a string in 2.16
        ("/contacts/{contact}", 200, "contact", lambda body: {**body, "type": "user"}),  # the type assertion
        ("/contacts/search", 200, "list", lambda body: {**body, "pages": {"type": "page"}}),
        (
            "/admins/123",
            404,
            "error.list",
            lambda body: {**body, "request_id": "not-a-uuid"},
        ),  # documented 404
        ("/contacts/nope", 404, "error.list", lambda body: {**body, "errors": [{"message": "no code"}]}),
        (
            "/contacts/nope",
            404,
            "error.list",
            lambda body: {**body, "request_id": "not-a-uuid"},
        ),  # undocumented
    ],
)
def test_the_spec_check_catches_a_drifting_fake(api, fake, monkeypatch, route, status, type_, drift):
    contact = api.create_contact(external_id="drift")
    conversation = fake.add_conversation(contact["id"])
    path = route.format(contact=contact["id"], conversation=conversation["id"])

    def call() -> requests.Response:
        if path == "/contacts/search":
            return api.post(path, {"query": email_is("a@b.c")})
        return api.get(path)

    check(call(), status, type_, request_matches_spec=status == 200)  # as served: passes
    original = FakeIntercom.handle

    def drifting(self, *args, **kwargs):
        status, payload, headers = original(self, *args, **kwargs)
        return status, drift(payload), headers

    monkeypatch.setattr(FakeIntercom, "handle", drifting)
    with pytest.raises(AssertionError):
        check(call(), status, type_, request_matches_spec=status == 200)


def test_a_user_starts_a_conversation_and_an_admin_assigns_it(api, fake):
    contact = api.create_contact(external_id="s-1", email="s1@example.com")
    started = check(
        api.post(
            "/conversations",
            {"from": {"type": "user", "id": contact["id"]}, "body": "My withdrawal is stuck"},
        ),
        200,
        "user_message",
    )
    conversation = fake.get_conversation(started["conversation_id"])
    assert conversation["source"]["body"] == "<p>My withdrawal is stuck</p>"
    assert conversation["admin_assignee_id"] == 0 and conversation["state"] == "open"

    path = f"/conversations/{started['conversation_id']}/parts"
    to_ada = {"message_type": "assignment", "type": "admin", "admin_id": ME_ADMIN_ID, "assignee_id": ADA}
    assigned = check(api.post(path, to_ada), 200, "conversation")
    assert assigned["admin_assignee_id"] == int(ADA)
    part = assigned["conversation_parts"]["conversation_parts"][-1]
    assert part["part_type"] == "assignment" and part["assigned_to"] == {"type": "admin", "id": ADA}
    to_team = {**to_ada, "type": "team", "assignee_id": SUPPORT_TEAM_ID}
    assert check(api.post(path, to_team), 200, "conversation")["team_assignee_id"] == int(SUPPORT_TEAM_ID)
    unassigned = check(api.post(path, {**to_ada, "assignee_id": "0"}), 200, "conversation")
    assert unassigned["admin_assignee_id"] == 0


def test_conversation_create_and_assignment_errors(api, fake):
    contact = api.create_contact(external_id="s-2")
    check_error(
        api.post("/conversations", {"from": {"type": "user", "id": "5" * 24}, "body": "x"}), 404, "not_found"
    )
    check_error(
        api.post("/conversations", {"from": {"type": "user", "id": contact["id"]}}),
        400,
        "parameter_not_found",
    )
    conversation = fake.add_conversation(contact["id"])
    path = f"/conversations/{conversation['id']}/parts"
    assign = {"message_type": "assignment", "type": "admin", "admin_id": ME_ADMIN_ID, "assignee_id": ADA}
    check_error(api.post("/conversations/999/parts", assign), 404, "not_found", request_matches_spec=True)
    check_error(
        api.post(path, {**assign, "assignee_id": "123"}), 404, "admin_not_found", request_matches_spec=True
    )
    check_error(api.post(path, {**assign, "type": "team", "assignee_id": "123"}), 404, "team_not_found")
    check_error(
        api.post(path, {**assign, "admin_id": "123"}), 404, "admin_not_found", request_matches_spec=True
    )
    check_error(api.post(path, {**assign, "message_type": "close"}), 400, "parameter_invalid")


def test_a_conversation_is_tagged_once_however_often_it_is_asked(api, fake):
    contact = api.create_contact(external_id="s-3")
    conversation = fake.add_conversation(contact["id"])
    tag = check(api.post("/tags", {"name": "Whale"}), 200, "tag")
    path = f"/conversations/{conversation['id']}/tags"
    applied = check(api.post(path, {"id": tag["id"], "admin_id": ME_ADMIN_ID}), 200, "tag")
    assert applied["name"] == "Whale" and applied["applied_by"] == {"type": "admin", "id": ME_ADMIN_ID}
    check(api.post(path, {"id": tag["id"], "admin_id": ME_ADMIN_ID}), 200, "tag")
    tags = fake.get_conversation(conversation["id"])["tags"]["tags"]
    assert [t["name"] for t in tags] == ["Whale"]


def test_conversation_tagging_errors(api, fake):
    contact = api.create_contact(external_id="s-4")
    conversation = fake.add_conversation(contact["id"])
    tag = check(api.post("/tags", {"name": "Whale"}), 200, "tag")
    path = f"/conversations/{conversation['id']}/tags"
    check_error(api.post(path, {"id": tag["id"]}), 400, "parameter_not_found")
    check_error(api.post(path, {"id": "999999", "admin_id": ME_ADMIN_ID}), 404, "not_found")
    check_error(
        api.post("/conversations/999/tags", {"id": tag["id"], "admin_id": ME_ADMIN_ID}),
        404,
        "not_found",
        request_matches_spec=True,
    )
    assert fake.get_conversation(conversation["id"])["tags"]["tags"] == []


def test_teammates_added_and_a_team_removed_show_in_the_workspace(api, fake):
    admin = fake.add_admin("Lin Desk", "lin@example.com", team_ids=(SUPPORT_TEAM_ID,))
    listed = check(api.get("/admins"), 200, "admin.list")["admins"]
    assert admin["id"] in {a["id"] for a in listed}
    team = check(api.get(f"/teams/{SUPPORT_TEAM_ID}"), 200, "team")
    assert int(admin["id"]) in team["admin_ids"]
    fake.remove_team(SUPPORT_TEAM_ID)
    assert check(api.get("/teams"), 200, "team.list")["teams"] == []
    check_error(api.get(f"/teams/{SUPPORT_TEAM_ID}"), 404, "team_not_found")
    assert all(a["team_ids"] == [] for a in check(api.get("/admins"), 200, "admin.list")["admins"])


def test_a_teammate_starts_a_message_that_opens_a_conversation(api, fake):
    contact = api.create_contact(external_id="m-1")
    sent = {
        "message_type": "in_app",
        "from": {"type": "admin", "id": int(ADA)},
        "to": {"type": "user", "id": contact["id"]},
        "body": "<p>The market was just disputed.</p>",
        "create_conversation_without_contact_reply": True,
    }
    message = check(api.post("/messages", sent), 200, "admin_message")
    assert message["owner"]["id"] == ADA and message["body"] == sent["body"]
    conversation = fake.get_conversation(message["conversation_id"])
    assert conversation["source"]["delivered_as"] == "admin_initiated"
    assert conversation["source"]["author"]["id"] == ADA
    assert conversation["contacts"]["contacts"][0]["id"] == contact["id"]
    assert conversation["waiting_since"] is None  # the teammate wrote last

    without = check(
        api.post("/messages", {**sent, "create_conversation_without_contact_reply": False}),
        200,
        "admin_message",
    )
    assert "conversation_id" not in without


def test_message_errors(api, fake):
    contact = api.create_contact(external_id="m-2")
    sent = {
        "message_type": "in_app",
        "from": {"type": "admin", "id": int(ADA)},
        "to": {"type": "user", "id": contact["id"]},
        "body": "Hello",
    }
    check_error(
        api.post("/messages", {**sent, "body": ""}), 400, "parameter_invalid", message="Body is required"
    )
    check_error(
        api.post("/messages", {**sent, "message_type": "email", "template": "plain"}),
        422,
        "parameter_not_found",
        message="No subject supplied for email message",
    )
    check_error(api.post("/messages", {**sent, "to": {"type": "user", "id": "0" * 24}}), 404, "not_found")
    check_error(api.post("/messages", {**sent, "from": {"type": "admin", "id": 1}}), 404, "admin_not_found")
    check_error(api.post("/messages", {**sent, "message_type": "sms"}), 400, "parameter_invalid")

"""The rota pages: who may open what, /oncall/ in the viewer's time zone, and the Admins' rota and
override forms and the hand-off note form, followed through the links and forms the pages
render; bad input shows its message, answers 4xx and saves nothing."""

import datetime as dt

import pytest
from django.urls import reverse

from oncall.models import HandoffNote, Rota, RotaOverride
from oncall.tests.test_rota_services import layout, person, save_rota
from portal.roles import Role
from portal.tests.pages import form_on, link_to, links, submit
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2027, 3, 3, 12, tzinfo=UTC)  # a Wednesday of the rotas' first week


@pytest.fixture(autouse=True)
def now(monkeypatch):
    return pinned_time(monkeypatch, NOW)


@pytest.fixture
def rota():
    """Support, in London: Ana then Ben on the primary, Carl on the secondary, weekly from
    Monday 1 March 09:00."""
    return save_rota(time_zone="Europe/London")


def overview(client):
    return client.get(reverse("oncall:overview"))


def page_text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# ---- who may open what -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, rota):
    for url in (
        reverse("oncall:overview"),
        reverse("oncall:rota_new"),
        reverse("oncall:rota_edit", args=[rota.pk]),
        reverse("oncall:override_new", args=[rota.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_product_is_refused_every_rota_page(client, product_person, rota):
    client.force_login(product_person)
    override = RotaOverride.objects.create(
        layer=rota.layers.get(position=1),
        user=person("carl"),
        starts_at=NOW,
        ends_at=NOW + dt.timedelta(hours=1),
        reason="swap",
        created_by=person("carl"),
    )
    for method, url in (
        ("get", reverse("oncall:overview")),
        ("get", reverse("oncall:rota_new")),
        ("get", reverse("oncall:rota_edit", args=[rota.pk])),
        ("get", reverse("oncall:override_new", args=[rota.pk])),
        ("post", reverse("oncall:handoff_note_new", args=[rota.pk])),
        ("post", reverse("oncall:override_delete", args=[override.pk])),
    ):
        assert getattr(client, method)(url).status_code == 403, url
    assert "On call" not in [link.text for link in links(client.get(reverse("home")))]


def test_readers_see_the_rota_without_admin_controls(client, specialist, leader, rota):
    for reader in (specialist, leader):
        client.force_login(reader)
        assert link_to(client.get(reverse("home")), "On call") == reverse("oncall:overview")
        response = overview(client)
        assert response.status_code == 200
        text = page_text(response)
        assert "Support" in text and "Primary" in text and "Secondary" in text
        assert "Add rota" not in text and "Edit rota" not in text and "Overrides" not in text
        assert client.get(reverse("oncall:rota_new")).status_code == 403
        assert client.get(reverse("oncall:override_new", args=[rota.pk])).status_code == 403


def test_now_is_shown_in_the_viewers_time_zone_with_the_zone_named(client, specialist, rota):
    specialist.time_zone = "America/New_York"
    specialist.save()
    client.force_login(specialist)
    text = page_text(overview(client))
    assert "Times in America/New_York" in text
    # Ana since Monday 09:00 London (04:00 in New York), until the next Monday's hand-off.
    assert "Mon 1 Mar, 04:00 EST" in text and "Mon 8 Mar, 04:00 EST" in text
    assert "Hands off every 7 days at 09:00 Europe/London time" in text


def test_the_calendar_marks_hand_offs_overrides_and_gaps(client, portal_admin, rota):
    RotaOverride.objects.create(
        layer=rota.layers.get(position=2),
        user=person("dora"),
        starts_at=dt.datetime(2027, 3, 4, 10, tzinfo=UTC),
        ends_at=dt.datetime(2027, 3, 4, 14, tzinfo=UTC),
        reason="sick",
        created_by=portal_admin,
    )
    save_rota("Later", layers={"Primary": [person("eve")]}, starts_on=dt.date(2027, 3, 6))
    client.force_login(portal_admin)
    response = overview(client)
    text = page_text(response)
    assert text.count('<th scope="row" class="nowrap">') == 2 * 14  # two rotas, 14 days each
    assert "Hand-off 09:00" in text  # Monday 8 March
    assert 'Override</span> <span class="muted nowrap">from 10:00 until 14:00</span>' in text
    assert "Coverage gap" in text and "Wed 3 Mar, 12:00 to Sat 6 Mar, 09:00 UTC" in text
    assert "No coverage gaps in the next 7 days." in text  # Support has none


# ---- rotas -------------------------------------------------------------------------------------


def test_an_admin_creates_a_rota_through_the_form(client, portal_admin):
    person("ana"), person("ben"), person("carl")
    client.force_login(portal_admin)
    new = client.get(link_to(overview(client), "Add rota"))
    form = form_on(new, has_field="layer_1")
    response = submit(
        client,
        form,
        name="Weekend desk",
        time_zone="Europe/London",
        starts_on="2027-03-01",
        handoff_time="09:00",
        rotation_days="7",
        layer_1="ben, ana",
        layer_2_name="Backup",
        layer_2="carl",
        is_active="on",
    )
    assert response.status_code == 302
    rota = Rota.objects.get(name="Weekend desk")
    assert layout(rota) == {"Primary": ["ben", "ana"], "Backup": ["carl"]}
    assert (rota.time_zone, rota.handoff_time, rota.is_active) == ("Europe/London", dt.time(9), True)
    landed = client.get(response["Location"])
    assert "Rota “Weekend desk” saved." in messages_of(landed)


def test_an_admin_edits_a_rota_from_its_link(client, portal_admin, rota):
    client.force_login(portal_admin)
    edit = client.get(link_to(overview(client), "Edit rota Support"))
    form = form_on(edit, has_field="layer_1")
    assert form.data["layer_1"] == ["ana, ben"] and form.data["layer_2"] == ["carl"]
    assert submit(client, form, layer_1="ben\nana", rotation_days="14").status_code == 302
    rota.refresh_from_db()
    assert rota.rotation_days == 14
    assert layout(rota) == {"Primary": ["ben", "ana"], "Secondary": ["carl"]}


@pytest.mark.parametrize(
    ("typed", "field_message"),
    [
        ({"layer_1": "ana, zed"}, "No one is called “zed”."),
        (
            {"layer_1": "", "layer_2": "carl"},
            "Fill the layers in order: layer 1 is empty but layer 2 is not.",
        ),
        ({"layer_1": ""}, "A rota needs at least one layer (the primary) with at least one person in it."),
        ({"layer_1": "ana, ana"}, "Primary: ana is listed twice; each person once per layer."),
        ({"layer_2_name": "Backup", "layer_2": ""}, "Backup: list at least one person, or clear the name"),
        ({"rotation_days": "0"}, "A shift lasts from 1 to 90 days (7 is a week)."),
        (
            {"layer_1": "ana, paula"},
            "Primary: paula cannot be on call (only active Specialists and Admins can).",
        ),
        ({"webhook_url": "not a url"}, "Give the webhook&#x27;s full address, starting with https://."),
    ],
)
def test_bad_rota_input_shows_its_message_and_saves_nothing(client, portal_admin, typed, field_message):
    person("ana"), person("paula", Role.PRODUCT)
    client.force_login(portal_admin)
    form = form_on(client.get(reverse("oncall:rota_new")), has_field="layer_1")
    values = {
        "name": "Support",
        "starts_on": "2027-03-01",
        "handoff_time": "09:00",
        "rotation_days": "7",
        "layer_1": "ana",
        **typed,
    }
    response = submit(client, form, **values)
    assert response.status_code == 400
    assert field_message in page_text(response)
    assert "form-row--error" in page_text(response)
    assert not Rota.objects.exists()


# ---- overrides ---------------------------------------------------------------------------------


def test_an_admin_adds_and_deletes_an_override_in_their_own_time(client, portal_admin, rota):
    portal_admin.time_zone = "America/New_York"
    portal_admin.save()
    dora = person("dora")
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Overrides of Support"))
    assert "No override now or to come" in page_text(page)
    form = form_on(page, has_field="reason")
    assert str(dora.pk) in form.options["user"]
    response = submit(
        client,
        form,
        user=str(dora.pk),
        starts_at="2027-03-04T09:00",
        ends_at="2027-03-05T09:00",
        reason="sick",
        note="Ana has the flu",
    )
    assert response.status_code == 302
    override = RotaOverride.objects.get()
    assert (override.user, override.layer.position, override.created_by) == (dora, 1, portal_admin)
    assert override.starts_at == dt.datetime(2027, 3, 4, 14, tzinfo=UTC)  # 09:00 in New York
    listed = client.get(response["Location"])
    assert "Ana has the flu" in page_text(listed)
    assert "Override added: dora covers Primary." in messages_of(listed)

    delete = form_on(listed, action_contains="/delete/")
    assert submit(client, delete).status_code == 302
    assert not RotaOverride.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"ends_at": "2027-03-04T08:00"}, "The cover must end after it starts."),
        ({"ends_at": ""}, "This field is required."),
        ({"starts_at": "1999-03-04T08:00"}, "Enter a date between 2000 and 2100."),
    ],
)
def test_a_bad_override_shows_its_message_and_saves_nothing(client, portal_admin, rota, typed, message):
    dora = person("dora")
    client.force_login(portal_admin)
    form = form_on(client.get(reverse("oncall:override_new", args=[rota.pk])), has_field="reason")
    values = {"user": str(dora.pk), "starts_at": "2027-03-04T09:00", "ends_at": "2027-03-05T09:00", **typed}
    response = submit(client, form, **values)
    assert response.status_code == 400
    assert message in page_text(response)
    assert not RotaOverride.objects.exists()


def test_a_layer_of_another_rota_is_not_a_choice(client, portal_admin, rota):
    other = save_rota("Weekend", layers={"Primary": [person("dora")]})
    client.force_login(portal_admin)
    form = form_on(client.get(reverse("oncall:override_new", args=[rota.pk])), has_field="reason")
    response = submit(
        client,
        form,
        layer=str(other.layers.get().pk),
        user=str(person("dora").pk),
        starts_at="2027-03-04T09:00",
        ends_at="2027-03-05T09:00",
    )
    assert response.status_code == 400
    assert "Select a valid choice" in page_text(response)
    assert not RotaOverride.objects.exists()


# ---- hand-off notes ----------------------------------------------------------------------------


def test_a_specialist_on_the_rota_leaves_a_hand_off_note(client, rota):
    ana = rota.layers.get(position=1).members.get(position=1).user
    client.force_login(ana)
    form = form_on(overview(client), has_field="body")
    response = submit(client, form, body="Whale 0xabc disputes the election market.")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Whale 0xabc disputes the election market." in page_text(page)
    assert "Hand-off note added to “Support”." in messages_of(page)


def test_an_empty_note_shows_its_message_and_saves_nothing(client, rota):
    client.force_login(rota.layers.get(position=1).members.get(position=1).user)
    response = submit(client, form_on(overview(client), has_field="body"), body="   ")
    assert response.status_code == 400
    assert "Write the note: what the next person on call needs to know." in page_text(response)
    assert not HandoffNote.objects.exists()


def test_people_off_the_rota_get_no_note_form_and_cannot_post_one(client, specialist, leader, rota):
    client.force_login(specialist)
    assert 'name="body"' not in page_text(overview(client))
    response = client.post(reverse("oncall:handoff_note_new", args=[rota.pk]), {"body": "Hi"})
    assert response.status_code == 400
    assert "Only Specialists on the “Support” rota write its hand-off notes." in page_text(response)
    client.force_login(leader)
    assert client.post(reverse("oncall:handoff_note_new", args=[rota.pk]), {"body": "Hi"}).status_code == 403
    assert not HandoffNote.objects.exists()


def test_the_page_costs_the_same_queries_however_many_rotas(
    client, portal_admin, django_assert_max_num_queries
):
    save_rota()
    client.force_login(portal_admin)
    overview(client)
    with django_assert_max_num_queries(14) as few:
        overview(client)
    for n in range(4):
        members = [person(f"p{n}-{m}") for m in range(8)]
        save_rota(f"Rota {n}", layers={"Primary": members, "Secondary": members[::-1]})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert overview(client).status_code == 200

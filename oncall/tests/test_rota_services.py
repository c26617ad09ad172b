"""The rota's writes (oncall.services.rota): a rota saved whole with its layers and members, every
bad input refused with a message and nothing saved; overrides added and deleted; hand-off notes.
The helpers at the top are shared by the other test_rota_* modules."""

import datetime as dt

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from oncall.models import EscalationPolicy, EscalationStep, HandoffNote, Rota, RotaLayer, RotaOverride
from oncall.services.rota import (
    LayerInput,
    handoff_note_create,
    override_create,
    override_delete,
    rota_save,
)
from portal.roles import Role
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
START = dt.datetime(2027, 3, 10, 12, tzinfo=UTC)


def person(username: str, *roles: str, **fields):
    return UserFactory(username=username, roles=list(roles or [Role.SPECIALIST]), **fields)


def save_rota(name: str = "Support", *, layers=None, rota=None, **fields) -> Rota:
    """A rota through the service: `layers` maps layer name to people, in order."""
    if layers is None:
        layers = {"Primary": [person("ana"), person("ben")], "Secondary": [person("carl")]}
    values = {
        "time_zone": "UTC",
        "starts_on": dt.date(2027, 3, 1),
        "handoff_time": dt.time(9, 0),
        "rotation_days": 7,
        **fields,
    }
    return rota_save(
        rota=rota,
        name=name,
        layers=[LayerInput(layer_name, members) for layer_name, members in layers.items()],
        **values,
    )


def layout(rota: Rota) -> dict[str, list[str]]:
    return {
        layer.name: [m.user.username for m in layer.members.order_by("position")]
        for layer in rota.layers.order_by("position")
    }


def refused(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value.message_dict


# ---- rotas -----------------------------------------------------------------------------------


def test_a_rota_is_saved_with_its_layers_and_members_in_order():
    ana, ben, carl, dora = person("ana"), person("ben"), person("carl"), person("dora", Role.ADMIN)
    rota = save_rota(
        layers={"Primary": [ben, ana, dora], "Secondary": [carl]},
        time_zone="America/New_York",
        rotation_days=14,
        webhook_url="https://hooks.example.com/T1/B2",
    )
    assert layout(rota) == {"Primary": ["ben", "ana", "dora"], "Secondary": ["carl"]}
    assert list(rota.layers.values_list("position", flat=True)) == [1, 2]
    rota.refresh_from_db()
    assert (rota.time_zone, rota.rotation_days, rota.webhook_url) == (
        "America/New_York",
        14,
        "https://hooks.example.com/T1/B2",
    )


def test_an_empty_layer_name_gets_the_positions_name():
    rota = save_rota(layers={"": [person("ana")], " ": [person("ben")]})
    assert list(layout(rota)) == ["Primary", "Secondary"]


def test_updating_keeps_each_layers_overrides_and_can_swap_names():
    ana, ben, carl = person("ana"), person("ben"), person("carl")
    rota = save_rota(layers={"Primary": [ana, ben], "Secondary": [carl]})
    primary = rota.layers.get(position=1)
    override = override_create(
        rota=rota,
        layer=primary,
        user=carl,
        starts_at=START,
        ends_at=START + dt.timedelta(hours=4),
        reason="swap",
        by=ana,
    )
    save_rota(rota=rota, name="Support", layers={"Secondary": [ben, carl], "Primary": [ana]})
    assert layout(rota) == {"Secondary": ["ben", "carl"], "Primary": ["ana"]}
    assert RotaOverride.objects.get(pk=override.pk).layer_id == primary.pk


def test_a_layer_left_out_is_deleted_with_its_overrides():
    admin = person("admin", Role.ADMIN)
    rota = save_rota()
    secondary = rota.layers.get(position=2)
    override_create(
        rota=rota,
        layer=secondary,
        user=admin,
        starts_at=START,
        ends_at=START + dt.timedelta(hours=1),
        reason="other",
        by=admin,
    )
    save_rota(rota=rota, name="Support", layers={"Primary": [person("ana")]})
    assert layout(rota) == {"Primary": ["ana"]}
    assert not RotaOverride.objects.exists()


def test_a_layer_an_escalation_policy_pages_is_not_removed():
    rota = save_rota()
    policy = EscalationPolicy.objects.create(name="Default", rota=rota)
    EscalationStep.objects.create(policy=policy, position=1, layer_position=2, wait_minutes=30)
    errors = refused(save_rota, rota=rota, name="Support", layers={"Primary": [person("ana")]})
    assert errors["layers"] == [
        "Layer 2 is paged by an escalation policy: change the policy before removing it."
    ]
    assert layout(rota) == {"Primary": ["ana", "ben"], "Secondary": ["carl"]}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the rota a name."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "“Mars/Olympus” is not a known time zone"),
        ({"rotation_days": 0}, "rotation_days", "A shift lasts from 1 to 90 days"),
        ({"rotation_days": 91}, "rotation_days", "A shift lasts from 1 to 90 days"),
        ({"webhook_url": "hooks.example.com"}, "webhook_url", "starting with https://"),
        ({"starts_on": None}, "starts_on", "Give the date of the first hand-off."),
    ],
)
def test_bad_rota_settings_are_refused_and_nothing_is_saved(change, field, message):
    layers = {"Primary": [person("ana")]}
    errors = refused(save_rota, **{"name": "Support", "layers": layers, **change})
    assert any(message in text for text in errors[field]), errors
    assert not Rota.objects.exists() and not RotaLayer.objects.exists()


def test_a_rota_with_no_layer_is_refused():
    errors = refused(save_rota, layers={})
    assert errors == {
        "layers": ["A rota needs at least one layer (the primary) with at least one person in it."]
    }
    assert not Rota.objects.exists()


def test_a_layer_with_nobody_is_refused():
    errors = refused(save_rota, layers={"Primary": [person("ana")], "Secondary": []})
    assert errors == {
        "layer_2": ["Secondary: list at least one person (a layer with nobody in it pages nobody)."]
    }
    assert not Rota.objects.exists()


def test_the_same_person_twice_in_a_layer_is_refused():
    ana = person("ana")
    errors = refused(save_rota, layers={"Primary": [ana, person("ben"), ana]})
    assert errors == {"layer_1": ["Primary: ana is listed twice; each person once per layer."]}
    # In two layers is fine: primary one week, secondary another.
    assert layout(save_rota(layers={"Primary": [ana], "Secondary": [ana]})) == {
        "Primary": ["ana"],
        "Secondary": ["ana"],
    }


def test_only_active_specialists_and_admins_can_be_members():
    errors = refused(
        save_rota,
        layers={
            "Primary": [person("ana"), person("paula", Role.PRODUCT)],
            "Secondary": [person("leo", Role.LEADERSHIP), person("gone", is_active=False)],
        },
    )
    assert errors == {
        "layer_1": ["Primary: paula cannot be on call (only active Specialists and Admins can)."],
        "layer_2": [
            "Secondary: leo cannot be on call (only active Specialists and Admins can).",
            "Secondary: gone cannot be on call (only active Specialists and Admins can).",
        ],
    }


def test_two_layers_with_one_name_and_a_taken_rota_name_are_refused():
    save_rota("Support", layers={"Primary": [person("ana")]})
    errors = refused(save_rota, name="support", layers={"Main": [person("ben")], "main": [person("carl")]})
    assert errors["name"] == ["There is already a rota named “support”."]
    assert errors["layer_2"] == ["Two layers are named “main”: give each its own name."]
    assert Rota.objects.count() == 1


def test_a_refused_update_changes_nothing():
    rota = save_rota()
    refused(save_rota, rota=rota, name="Renamed", rotation_days=0, layers={"Primary": [person("dora")]})
    rota.refresh_from_db()
    assert (rota.name, rota.rotation_days) == ("Support", 7)
    assert layout(rota) == {"Primary": ["ana", "ben"], "Secondary": ["carl"]}


# ---- overrides -------------------------------------------------------------------------------


@pytest.fixture
def rota():
    return save_rota()


def add_override(rota, **fields):
    values = {
        "rota": rota,
        "layer": rota.layers.get(position=1),
        "user": person("carl"),
        "starts_at": START,
        "ends_at": START + dt.timedelta(days=2),
        "reason": RotaOverride.Reason.HOLIDAY,
        "note": "Ana is away",
        "by": person("admin", Role.ADMIN),
    }
    return override_create(**{**values, **fields})


def test_an_override_is_saved_with_who_made_it(rota):
    override = add_override(rota)
    assert (override.user.username, override.created_by.username, override.note) == (
        "carl",
        "admin",
        "Ana is away",
    )
    assert override.ends_at - override.starts_at == dt.timedelta(days=2)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ends_at": START - dt.timedelta(minutes=1)}, "ends_at", "The cover must end after it starts."),
        ({"ends_at": START}, "ends_at", "The cover must end after it starts."),
        (
            {"ends_at": START + dt.timedelta(days=400)},
            "ends_at",
            "An override lasts a year at most: is the end date right?",
        ),
        (
            {"starts_at": dt.datetime(2027, 3, 10, 12)},
            "starts_at",
            "Give the date and time the cover starts.",
        ),
        ({"reason": "bored"}, "reason", "Choose why: holiday, sick day, swap or other."),
        ({"note": "x" * 301}, "note", "The note is 300 characters at most."),
    ],
)
def test_bad_overrides_are_refused_and_nothing_is_saved(rota, change, field, message):
    errors = refused(add_override, rota=rota, **change)
    assert errors[field] == [message]
    assert not RotaOverride.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        lambda: person("paula", Role.PRODUCT),
        lambda: person("leo", Role.LEADERSHIP),
        lambda: person("gone", is_active=False),
    ],
)
def test_only_an_active_specialist_or_admin_covers(rota, who):
    user = who()
    errors = refused(add_override, rota=rota, user=user)
    assert errors == {"user": [f"{user.username} cannot be on call: only active Specialists and Admins can."]}
    assert not RotaOverride.objects.exists()
    assert add_override(rota, user=person("admin", Role.ADMIN)).user.username == "admin"


def test_a_layer_of_another_rota_is_refused(rota):
    other = save_rota("Weekend", layers={"Primary": [person("dora")]})
    errors = refused(add_override, rota=rota, layer=other.layers.get())
    assert errors == {"layer": ["That layer belongs to another rota, not “Support”."]}
    assert not RotaOverride.objects.exists()


def test_an_override_is_deleted(rota):
    override = add_override(rota)
    override_delete(override=override)
    override_delete(override=override)  # again: nothing to do
    assert not RotaOverride.objects.exists()


# ---- hand-off notes --------------------------------------------------------------------------


def test_a_specialist_on_the_rota_leaves_a_note(rota):
    ana = rota.layers.get(position=1).members.get(position=1).user
    note = handoff_note_create(rota=rota, author=ana, body="  Two SEV2s open; whale X is angry.  ")
    assert (note.body, note.author) == ("Two SEV2s open; whale X is angry.", ana)
    assert len(handoff_note_create(rota=rota, author=ana, body="x" * 5000).body) == 5000


def test_whoever_covers_an_override_may_leave_a_note(rota):
    dora = person("dora")
    add_override(rota, user=dora)
    assert handoff_note_create(rota=rota, author=dora, body="Quiet night.").author == dora


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write the note: what the next person on call needs to know."),
        ("   \n ", "Write the note: what the next person on call needs to know."),
        ("x" * 5001, "A hand-off note is 5,000 characters at most (this one has 5,001)."),
    ],
)
def test_an_empty_or_too_long_note_is_refused(rota, body, message):
    ana = rota.layers.get(position=1).members.get(position=1).user
    assert refused(handoff_note_create, rota=rota, author=ana, body=body) == {"body": [message]}
    assert not HandoffNote.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        lambda: person("stranger"),  # a Specialist, not on this rota
        lambda: person("leo", Role.LEADERSHIP),
        lambda: person("admin", Role.ADMIN),
    ],
)
def test_only_specialists_on_the_rota_write_notes(rota, who):
    errors = refused(handoff_note_create, rota=rota, author=who(), body="Hello")
    assert errors == {NON_FIELD_ERRORS: ["Only Specialists on the “Support” rota write its hand-off notes."]}
    assert not HandoffNote.objects.exists()

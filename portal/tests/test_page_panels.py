import pytest

from portal.page_panels import page_panels, register_page_panel, unregister_page_panel


@pytest.fixture
def two_panels():
    register_page_panel(
        page="test.page",
        name="second",
        template="portal_tests/_panel.html",
        context=lambda *, obj, user: {"items": [f"{obj} for {user}"]},
        order=20,
    )
    register_page_panel(
        page="test.page",
        name="first",
        template="portal_tests/_panel.html",
        context=lambda *, obj, user: {"items": ["first"]} if obj == "shown" else None,
        order=10,
    )
    yield
    unregister_page_panel(page="test.page", name="first")
    unregister_page_panel(page="test.page", name="second")


def test_page_panels_come_in_order_and_skip_those_with_nothing_to_show(two_panels):
    shown = page_panels("test.page", obj="shown", user="spec")
    assert [entry.panel.name for entry in shown] == ["first", "second"]
    assert shown[1].context == {"items": ["shown for spec"]}
    assert [entry.panel.name for entry in page_panels("test.page", obj="other", user="spec")] == ["second"]


def test_a_page_shows_only_its_own_panels(two_panels):
    assert page_panels("test.other_page", obj="shown", user="spec") == []


def test_registering_a_panel_again_replaces_it(two_panels):
    register_page_panel(
        page="test.page",
        name="second",
        template="portal_tests/_panel.html",
        context=lambda *, obj, user: None,
        order=20,
    )
    assert [entry.panel.name for entry in page_panels("test.page", obj="shown", user="spec")] == ["first"]

"""Product manages the product areas at /feedback/areas/: list, add, rename, deactivate."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from feedback import areas
from feedback.forms import FeedbackForm, TriageForm
from feedback.models import ProductArea
from feedback.tests.factories import FeedbackItemFactory, ProductAreaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fees():
    return ProductAreaFactory(name="Fees")


def _update(client, area, **data):
    return client.post(reverse("feedback:area_update", args=[area.pk]), data)


def test_product_sees_every_area_with_its_item_count(client, product_person, specialist, fees):
    ProductAreaFactory(name="Legacy wallet", is_active=False)
    FeedbackItemFactory(created_by=specialist, area=fees)
    client.force_login(product_person)
    response = client.get(reverse("feedback:areas"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Fees") < page.index("Legacy wallet")  # active ones first
    assert "Deactivated" in page and f"?area={fees.pk}" in page
    assert [(a.name, a.item_count) for a in response.context["areas"]] == [("Fees", 1), ("Legacy wallet", 0)]


def test_product_adds_an_area_and_a_duplicate_name_is_refused_clearly(client, product_person, fees):
    client.force_login(product_person)
    response = client.post(reverse("feedback:areas"), {"new-name": "  Order   book "})
    assert response.status_code == 302
    assert ProductArea.objects.filter(name="Order book", is_active=True).exists()

    response = client.post(reverse("feedback:areas"), {"new-name": "FEES"})
    assert response.status_code == 400
    assert "An area named “Fees” already exists." in response.content.decode()
    response = client.post(reverse("feedback:areas"), {"new-name": "   "})
    assert response.status_code == 400 and "Give the area a name." in response.content.decode()
    response = client.post(reverse("feedback:areas"), {"new-name": "x" * 101})
    assert response.status_code == 400
    assert ProductArea.objects.count() == 2


def test_rename_and_a_clash_with_another_area(client, product_person, fees):
    api = ProductAreaFactory(name="API")
    client.force_login(product_person)
    assert _update(client, fees, action="rename", name="Fees and rebates").status_code == 302
    fees.refresh_from_db()
    assert fees.name == "Fees and rebates"

    response = _update(client, fees, action="rename", name="api")
    assert response.status_code == 400
    page = response.content.decode()
    assert "An area named “API” already exists." in page and 'value="api"' in page
    assert _update(client, api, action="rename", name="").status_code == 400
    assert _update(client, api, action="rename", name="API").status_code == 302  # same name: fine
    assert sorted(ProductArea.objects.values_list("name", flat=True)) == ["API", "Fees and rebates"]


def test_deactivated_areas_are_not_offered_for_new_feedback_but_stay_on_items(
    client, product_person, specialist, fees
):
    item = FeedbackItemFactory(created_by=specialist, area=fees)
    client.force_login(product_person)
    assert _update(client, fees, action="deactivate").status_code == 302
    fees.refresh_from_db()
    item.refresh_from_db()
    assert not fees.is_active and item.area == fees
    assert fees not in FeedbackForm().fields["area"].queryset
    assert fees in TriageForm().fields["area"].queryset
    response = client.post(reverse("feedback:areas"), {"new-name": "fees"})
    assert "reactivate it instead" in response.content.decode()

    assert _update(client, fees, action="activate").status_code == 302
    fees.refresh_from_db()
    assert fees.is_active and fees in FeedbackForm().fields["area"].queryset


def test_an_update_without_an_action_is_refused(client, portal_admin, fees):
    client.force_login(portal_admin)
    response = _update(client, fees)
    assert response.status_code == 400
    assert "Choose what to do with the area" in response.content.decode()
    assert (
        client.post(reverse("feedback:area_update", args=[999999]), {"action": "deactivate"}).status_code
        == 404
    )


def test_only_product_and_admins_manage_areas(client, specialist, leader, fees):
    for person in (specialist, leader):
        client.force_login(person)
        assert client.get(reverse("feedback:areas")).status_code == 403
        assert client.post(reverse("feedback:areas"), {"new-name": "New"}).status_code == 403
        assert _update(client, fees, action="deactivate").status_code == 403
    assert ProductArea.objects.get().is_active and ProductArea.objects.count() == 1
    with pytest.raises(ValidationError, match="Product does"):
        areas.area_create(by=specialist, name="Sneaky")
    with pytest.raises(ValidationError, match="Product does"):
        areas.area_set_active(area=fees, by=leader, active=False)


def test_admins_see_areas_and_items_in_the_django_admin(client, portal_admin, specialist, fees):
    item = FeedbackItemFactory(created_by=specialist, area=fees)
    client.force_login(portal_admin)
    assert client.get(reverse("admin:feedback_productarea_change", args=[fees.pk])).status_code == 200
    page = client.get(reverse("admin:feedback_feedbackitem_change", args=[item.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # read-only
    assert client.get(reverse("admin:feedback_productarea_delete", args=[fees.pk])).status_code == 403

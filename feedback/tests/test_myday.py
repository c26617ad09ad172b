"""Product's My day: feedback nobody has triaged yet, oldest first, one click to the log."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import FeedbackItem
from portal.myday import panels_for
from portal.tests.pages import link_to

pytestmark = pytest.mark.django_db


def _item(by, title, *, days_old=0, **kwargs):
    item = services.feedback_create(by=by, title=title, category=kwargs.pop("category", "fees"), **kwargs)
    FeedbackItem.objects.filter(pk=item.pk).update(created_at=timezone.now() - dt.timedelta(days=days_old))
    return item


def test_product_sees_untriaged_feedback_oldest_first_and_opens_it_in_the_log(
    client, specialist, product_person
):
    _item(specialist, "Newest ask", days_old=1)
    _item(specialist, "Oldest ask", days_old=9)
    _item(specialist, "Middle ask", days_old=4)
    triaged = _item(specialist, "Already triaged", days_old=20)
    services.item_triage(item=triaged, by=product_person, status=FeedbackItem.Status.TRIAGED)
    client.force_login(product_person)
    my_day = client.get(reverse("home"))
    text = my_day.content.decode()
    assert "Feedback waiting for triage" in text and "3 new items nobody has triaged yet" in text
    assert text.index("Oldest ask") < text.index("Middle ask") < text.index("Newest ask")
    assert "Already triaged" not in text

    log = client.get(link_to(my_day, "Triage them in the feedback log"))
    rows = [row.record.title for row in log.context["table"].paginated_rows]
    assert rows == ["Oldest ask", "Middle ask", "Newest ask"]


def test_the_panel_is_quiet_when_everything_is_triaged_and_specialists_do_not_get_it(
    client, specialist, product_person
):
    client.force_login(product_person)
    assert "Feedback waiting for triage" not in client.get(reverse("home")).content.decode()
    _item(specialist, "An ask")
    client.force_login(specialist)
    assert "Feedback waiting for triage" not in client.get(reverse("home")).content.decode()


def test_the_panel_runs_a_fixed_number_of_queries(
    client, specialist, product_person, django_assert_max_num_queries
):
    _item(specialist, "First ask")
    client.force_login(product_person)
    budget = 3 + len(panels_for(product_person))  # session, user, roles, one query per panel
    with django_assert_max_num_queries(budget) as one:
        client.get(reverse("home"))
    for n in range(25):
        _item(specialist, f"Ask {n}")
    with django_assert_max_num_queries(budget) as many:
        text = client.get(reverse("home")).content.decode()
    assert len(one.captured_queries) == len(many.captured_queries)
    assert "26 new items" in text and text.count('href="/feedback/') >= 10

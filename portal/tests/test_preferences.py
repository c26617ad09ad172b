import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from portal.models import User


def test_time_zone_is_saved_and_used_to_show_times(client, specialist):
    client.force_login(specialist)
    response = client.post(
        reverse("preferences"),
        {
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "time_zone": "Asia/Singapore",
            "current_password": "correct horse battery staple",
        },
        follow=True,
    )
    assert "Your preferences are saved." in response.content.decode()
    specialist.refresh_from_db()
    assert specialist.time_zone == "Asia/Singapore"
    assert "Asia/Singapore" in client.get(reverse("home")).content.decode()


def test_an_unknown_time_zone_is_refused_on_the_form(client, specialist):
    client.force_login(specialist)
    response = client.post(
        reverse("preferences"),
        {"first_name": "", "last_name": "", "email": "x@example.com", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert User.objects.get(pk=specialist.pk).time_zone == "UTC"


def test_a_bad_email_is_refused_and_nothing_is_saved(client, specialist):
    client.force_login(specialist)
    response = client.post(
        reverse("preferences"),
        {"first_name": "New", "last_name": "", "email": "not-an-email", "time_zone": "Europe/London"},
    )
    assert "Enter a valid email address" in response.content.decode()
    specialist.refresh_from_db()
    assert specialist.time_zone == "UTC" and specialist.first_name != "New"


@pytest.mark.django_db
def test_middleware_renders_stored_utc_in_the_viewers_zone(rf, specialist):
    from portal.middleware import UserTimezoneMiddleware

    specialist.time_zone = "America/New_York"
    moment = dt.datetime(2026, 7, 1, 16, 0, tzinfo=dt.UTC)
    request = rf.get("/")
    request.user = specialist

    def view(request):
        from django.http import HttpResponse

        return HttpResponse(Template("{{ t|date:'H:i e' }}").render(Context({"t": moment})))

    try:
        assert UserTimezoneMiddleware(view)(request).content.decode() == "12:00 EDT"
    finally:
        timezone.deactivate()


def test_an_address_taken_while_the_form_was_checked_is_a_form_error_not_a_500(client, specialist, leader):
    from unittest import mock

    from portal import services

    def taken_meanwhile(**kwargs):
        User.objects.filter(pk=leader.pk).update(email="shared@example.com")
        return services.user_update_preferences(**kwargs)

    client.force_login(specialist)
    with mock.patch("portal.views.user_update_preferences", taken_meanwhile):
        response = client.post(
            reverse("preferences"),
            {
                "first_name": "",
                "last_name": "",
                "email": "shared@example.com",
                "time_zone": "UTC",
                "current_password": "correct horse battery staple",
            },
        )
    assert response.status_code == 200
    assert "That e-mail is already used by another person." in response.content.decode()
    assert User.objects.get(pk=specialist.pk).email == "spec@example.com"

import io
import os

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.intercom.fake import FakeIntercom
from portal.roles import Role
from portal.tests.factories import UserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the roles, exactly as `make run` and deploys do."""
    with django_db_blocker.unblock():
        call_command("setup_roles", verbosity=0)


@pytest.fixture(autouse=True)
def default_time_zone():
    """Every test starts in settings.TIME_ZONE. UserTimezoneMiddleware activates the signed-in
    person's zone and leaves it active after the response, so without this a test would inherit
    the zone of the previous test's last request (Tokyo, Los Angeles...) and its own
    `timezone.localtime()` would depend on which test ran before it."""
    timezone.deactivate()
    yield
    timezone.deactivate()


@pytest.fixture(autouse=True)
def routing_rules_read_afresh():
    """Routing keeps the rules it read while they are unchanged (support.routing.facts); a rolled
    back test can leave rows that look the same to that check (ids reused, time frozen), so every
    test starts without them."""
    from support.routing import facts

    facts._cached = None


@pytest.fixture(autouse=True)
def health_counts_afresh(settings):
    """/healthz?detail keeps its counts for a few seconds; a test counts what it just wrote
    (portal/tests/test_health.py tests the keeping itself)."""
    settings.HEALTHZ_DETAIL_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files of a test land in its own temp dir, never in the repository's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


def _roles_ready():
    """A transactional test empties every table when it ends, the roles included; the tests
    after it get them back here."""
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name=Role.SPECIALIST).exists():
        call_command("setup_roles", verbosity=0)


@pytest.fixture
def specialist(db):
    _roles_ready()
    return UserFactory(username="spec", roles=[Role.SPECIALIST])


@pytest.fixture
def leader(db):
    _roles_ready()
    return UserFactory(username="lead", roles=[Role.LEADERSHIP])


@pytest.fixture
def product_person(db):
    _roles_ready()
    return UserFactory(username="prod", roles=[Role.PRODUCT])


@pytest.fixture
def portal_admin(db):
    _roles_ready()
    return UserFactory(username="padmin", roles=[Role.ADMIN], is_staff=True)


@pytest.fixture
def people(specialist, leader, product_person, portal_admin):
    """One person per role, keyed by role name."""
    return {
        Role.SPECIALIST: specialist,
        Role.LEADERSHIP: leader,
        Role.PRODUCT: product_person,
        Role.ADMIN: portal_admin,
    }


@pytest.fixture(scope="session")
def intercom_server():
    """One fake Intercom on a loopback port for the session (an app's tests may override this
    fixture with a subclass, as support/tests does)."""
    with FakeIntercom(search_delay_seconds=0) as fake:
        yield fake


@pytest.fixture
def intercom(intercom_server, settings):
    """The fake Intercom, reset, with the portal pointed at it and switched on."""
    intercom_server.reset()
    intercom_server.configure(search_delay_seconds=0)
    settings.INTERCOM_ENABLED = True
    settings.INTERCOM_ACCESS_TOKEN = intercom_server.token
    settings.INTERCOM_BASE_URL = intercom_server.url
    yield intercom_server
    assert not intercom_server.internal_errors, intercom_server.internal_errors


# Browser tests (portal/tests/browser.py): pytest-playwright's fixtures, on Debian's Chromium.


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from portal.tests.browser import CHROMIUM, CHROMIUM_ARGS

    # Playwright's sync API keeps an event loop running in the main thread for the rest of the
    # session; Django would take every later ORM call for async code and refuse it. It is not.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def in_browser(django_db_serialized_rollback, transactional_db, live_server):
    """A browser test: the live server sees the test's rows (a transactional database), which
    start from what the migrations made (tiers, SLA policies) and the roles."""
    _roles_ready()
    return live_server


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last. Each ends by emptying every table, the migrations' rows and the roles
    included, and pytest-playwright's grouping by browser would otherwise run them in the middle
    of the suite, before tests that expect those rows."""
    items.sort(key=lambda item: "in_browser" in getattr(item, "fixturenames", ()))


@pytest.fixture
def demo(in_browser):
    """The demo data, small: every kind of record for the browser tests to open."""
    call_command(
        "seed_demo",
        seed=7,
        i_know_this_is_production=True,  # the test database, whatever DEBUG says
        password="correct horse battery staple",
        accounts=8,
        markets=4,
        disputes=6,
        playbooks=3,
        feedback=6,
        conversations=6,
        history_months=1,
        history_conversations=60,
        history_cases=6,
        history_escalations=6,
        stdout=io.StringIO(),
    )
    return in_browser

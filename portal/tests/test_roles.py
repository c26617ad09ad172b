import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View

from portal.roles import ROLE_PERMISSIONS, Role, RoleRequiredMixin, has_role, role_required
from portal.services import roles_sync
from portal.tests.factories import UserFactory


@pytest.mark.django_db
def test_setup_roles_is_idempotent_and_sets_exact_permissions():
    call_command("setup_roles", verbosity=0)
    admin = Group.objects.get(name=Role.ADMIN)
    extra = Group.objects.get(name=Role.SPECIALIST)
    extra.permissions.add(admin.permissions.first())  # drift that setup_roles must undo

    call_command("setup_roles", verbosity=0)

    assert Group.objects.filter(name__in=list(Role)).count() == 4
    for role in Role:
        group = Group.objects.get(name=role)
        names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert names == set(ROLE_PERMISSIONS[role])


@pytest.mark.django_db
def test_only_admins_stay_staff():
    admin = UserFactory(roles=[Role.ADMIN], is_staff=False)
    sneaky = UserFactory(roles=[Role.SPECIALIST], is_staff=True)
    root = UserFactory(is_staff=True, is_superuser=True)

    roles_sync()

    admin.refresh_from_db(), sneaky.refresh_from_db(), root.refresh_from_db()
    assert admin.is_staff and not sneaky.is_staff and root.is_staff


@pytest.mark.django_db
def test_staff_without_admin_role_cannot_open_the_admin(client):
    staff = UserFactory(roles=[Role.LEADERSHIP], is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_has_role_rules():
    spec = UserFactory(roles=[Role.SPECIALIST])
    inactive = UserFactory(roles=[Role.SPECIALIST], is_active=False)
    root = UserFactory(is_superuser=True)
    assert has_role(spec, Role.SPECIALIST, Role.ADMIN)
    assert not has_role(spec, Role.PRODUCT)
    assert not has_role(inactive, Role.SPECIALIST)
    assert has_role(root, Role.PRODUCT)


@role_required(Role.LEADERSHIP)
def leadership_only(request):
    return HttpResponse("ok")


class ProductOnly(RoleRequiredMixin, View):
    required_roles = (Role.PRODUCT,)

    def get(self, request):
        return HttpResponse("ok")


class NoRolesDeclared(RoleRequiredMixin, View):
    def get(self, request):  # pragma: no cover - never reached
        return HttpResponse("ok")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("view", "allowed", "refused"),
    [
        (leadership_only, Role.LEADERSHIP, Role.SPECIALIST),
        (ProductOnly.as_view(), Role.PRODUCT, Role.LEADERSHIP),
    ],
)
def test_role_guards_let_the_role_in_and_refuse_others(view, allowed, refused):
    request = RequestFactory().get("/")
    request.user = UserFactory(roles=[allowed])
    assert view(request).status_code == 200
    request.user = UserFactory(roles=[refused])
    with pytest.raises(PermissionDenied):
        view(request)


@pytest.mark.django_db
def test_a_view_that_declares_no_role_refuses_everyone():
    request = RequestFactory().get("/")
    request.user = UserFactory(roles=list(Role))
    with pytest.raises(PermissionDenied):
        NoRolesDeclared.as_view()(request)

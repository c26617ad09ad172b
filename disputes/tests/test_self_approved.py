"""`Decision.self_approved`, the column the database keeps so that the reports' four-eyes reads
(FOUR_EYES) are planned on how few such decisions there are: it must say exactly what comparing
approver and proposer said."""

import pytest
from django.db.models import F, Q

from accounts.tests.factories import specialist_user
from disputes.models import FOUR_EYES, Decision
from disputes.tests.factories import make_decided_case

pytestmark = pytest.mark.django_db


def test_self_approved_is_the_approver_being_the_proposer(specialist):
    own = make_decided_case(by=specialist).decisions.get()
    second, proposed = (make_decided_case(by=specialist).decisions.get() for _ in range(2))
    other = specialist_user()
    Decision.objects.filter(pk=second.pk).update(approved_by=other)
    Decision.objects.filter(pk=proposed.pk).update(approved_by=None)
    found = dict(Decision.objects.values_list("pk", "self_approved"))
    assert found == {own.pk: True, second.pk: False, proposed.pk: False}
    # FOUR_EYES picks what the comparison of the two columns picked before the column existed.
    compared = set(Decision.objects.exclude(approved_by=F("proposed_by")).values_list("pk", flat=True))
    assert set(Decision.objects.filter(FOUR_EYES).values_list("pk", flat=True)) == compared
    assert compared == {second.pk, proposed.pk}
    assert not Decision.objects.filter(Q(self_approved=True) & FOUR_EYES).exists()

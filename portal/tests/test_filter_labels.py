"""Every list's filters are labelled in words: django-filter writes "[invalid name]" for a filter
that takes its values through a method and was given no label."""

import importlib
import inspect

import django_filters
import pytest
from django.test import RequestFactory

from portal.tests.factories import UserFactory

FILTER_MODULES = [
    "accounts.filters",
    "disputes.filters",
    "feedback.filters",
    "playbooks.filters",
    "support.filters",
]


def filtersets():
    for name in FILTER_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, django_filters.FilterSet) and cls.__module__ == name:
                yield cls


@pytest.mark.django_db
@pytest.mark.parametrize("filterset", list(filtersets()), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_filter_has_a_label_in_words(filterset):
    request = RequestFactory().get("/")
    request.user = UserFactory()
    form = filterset(data={}, queryset=filterset._meta.model.objects.none(), request=request).form
    labels = {name: str(field.label) for name, field in form.fields.items()}
    assert labels and not [name for name, label in labels.items() if "invalid name" in label], labels

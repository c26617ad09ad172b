"""Factories for the feedback log. Items, sources and comments are made through the real
services, so each carries what production would hold (its "created" event, its impact, the
account's source); product areas are plain rows, as Product's list has nothing derived."""

import factory

from accounts.tests.factories import make_account, specialist_user
from feedback import services
from feedback.models import FeedbackComment, FeedbackItem, FeedbackSource, ProductArea


class ProductAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductArea
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Area {n}")
    is_active = True


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    """`FeedbackItemFactory(account=a, note="Asked twice")` also links the account that raised it."""

    class Meta:
        model = FeedbackItem

    created_by = factory.LazyFunction(specialist_user)
    title = factory.Sequence(lambda n: f"Feedback {n}")
    category = FeedbackItem.Category.FEES
    severity = FeedbackItem.Severity.MINOR

    @classmethod
    def _create(cls, model_class, *args, created_by, **fields):
        return services.feedback_create(by=created_by, **fields)


class FeedbackSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackSource

    item = factory.SubFactory(FeedbackItemFactory)
    added_by = factory.SelfAttribute("item.created_by")
    account = factory.LazyAttribute(lambda source: make_account(owner=source.added_by))

    @classmethod
    def _create(cls, model_class, *args, added_by, **fields):
        return services.source_link(by=added_by, **fields)


class FeedbackCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackComment

    item = factory.SubFactory(FeedbackItemFactory)
    author = factory.SelfAttribute("item.created_by")
    body = factory.Sequence(lambda n: f"Comment {n}")

    @classmethod
    def _create(cls, model_class, *args, author, **fields):
        return services.comment_add(by=author, **fields)

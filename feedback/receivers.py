"""Keep stored impact right when accounts change elsewhere."""

from django.dispatch import receiver

from accounts.signals import accounts_weighing_changed
from feedback.services import impact_refresh_for_accounts


@receiver(accounts_weighing_changed)
def _refresh_impact(sender, account_ids, **kwargs):
    impact_refresh_for_accounts(account_ids)

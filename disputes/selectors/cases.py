"""Finding dispute cases, and the permission-checked getter of one case."""

import re

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from disputes.selectors.roles import RULE_READERS
from portal.models import User
from portal.roles import has_role

TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
CASE_REFERENCE = re.compile(r"^DSP-\d{4}-\d+$", re.IGNORECASE)


def case_list(*, query: str = "") -> QuerySet:
    """Cases with account, market and assignee joined; searchable by reference, account name or
    e-mail, market question, and a transaction hash found in the evidence or a wallet snapshot."""
    from accounts.models import Account
    from disputes.models import DisputeCase, EvidenceItem, Market, WalletActivityRow

    cases = DisputeCase.objects.select_related("account", "market", "assignee")
    query = (query or "").strip()
    if not query:
        return cases
    if CASE_REFERENCE.match(query):
        try:
            year, number = reference_parts(query)
        except Http404:
            return cases.none()
        return cases.filter(year=year, number=number)
    if TX_HASH.match(query):
        tx_hash = query.lower()
        in_evidence = EvidenceItem.objects.filter(kind="transaction", value=tx_hash).values("case_id")
        in_snapshots = WalletActivityRow.objects.filter(transaction_hash=tx_hash).values("case_id")
        return cases.filter(Q(pk__in=in_evidence) | Q(pk__in=in_snapshots))
    # Words: the accounts and markets they name first (two small tables), then those cases.
    accounts = Account.objects.filter(Q(display_name__icontains=query) | Q(email__iexact=query))
    markets = Market.objects.filter(question__icontains=query)
    return cases.filter(Q(account_id__in=_ids(accounts)) | Q(market_id__in=_ids(markets)))


# Up to this many matching accounts or markets are looked up first and their cases read through
# the foreign-key indexes; a word that matches more reads them as a subquery instead.
MATCHES_LOOKED_UP_FIRST = 1000


def _ids(matching: QuerySet):
    """The matching rows' ids as a list when there are few (so the case query uses the account
    and market indexes instead of joining every case), else as a subquery."""
    ids = list(matching.values_list("pk", flat=True)[: MATCHES_LOOKED_UP_FIRST + 1])
    return ids if len(ids) <= MATCHES_LOOKED_UP_FIRST else matching.values("pk")


def case_get_for_user(*, user: User, reference: str):
    from disputes.models import DisputeCase

    if not has_role(user, *RULE_READERS):
        raise PermissionDenied("Your role does not include dispute cases.")
    year, number = reference_parts(reference)
    try:
        return DisputeCase.objects.select_related(
            "account__tier",
            "account__owner",
            "market__current_version",
            "rule_version",
            "assignee",
            "filed_by",
            "heads_up__signal",
            "heads_up__owner",
        ).get(year=year, number=number)
    except DisputeCase.DoesNotExist:
        raise Http404("No such case.") from None


def reference_parts(reference: str) -> tuple[int, int]:
    """(year, number) of "DSP-2026-00042" in any case and padding, through the unique index
    rather than a case-insensitive scan; 404 for anything else."""
    match = re.fullmatch(r"DSP-(\d{4})-(\d{1,9})", (reference or "").strip(), flags=re.IGNORECASE)
    if not match:
        raise Http404("No such case.")
    return int(match.group(1)), int(match.group(2))

"""`manage.py demo_conversation`: a demo trader writes in, and routing takes it from there.

Starts a conversation in the local fake Intercom as the account's contact does
(`POST /conversations`), then hands it to the portal as Intercom's `conversation.user.created`
notification would: stored, routed by the rules, and its assignment queued for the outbox (the
worker carries it out within a minute, or `manage.py intercom_drain` now). Refused against a real
workspace: there, conversations come from your users."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import IntercomError
from integrations.intercom.fake import APP_ID_CODE
from integrations.intercom.sender.delivery import Sender
from support.models import RoutingDecision
from support.services import conversation_sync


class Command(BaseCommand):
    help = "Start a conversation in the local fake Intercom as a demo trader and route it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--account", help="The account's external id (default: the first top-tier account)."
        )
        parser.add_argument(
            "--text", default="My withdrawal has been pending for two hours.", help="The message."
        )

    def handle(self, *args, account=None, text="", **options):
        if not settings.INTERCOM_ENABLED:
            raise CommandError("Intercom is not connected: `make run` starts the local fake Intercom.")
        if not text.strip():
            raise CommandError("--text is empty: write what the trader says.")
        chosen = self._account(account)
        try:
            with IntercomClient() as client:
                if client.me().get("app", {}).get("id_code") != APP_ID_CODE:
                    raise CommandError(
                        "This is a real Intercom workspace: there, conversations come from your users. "
                        "demo_conversation only writes to the local fake Intercom."
                    )
                contact_id = Sender(client).contact_id(chosen.external_id, {"email": chosen.email})
                message = client.request(
                    "POST",
                    "/conversations",
                    json={"from": {"type": "user", "id": contact_id}, "body": text},
                    repeatable=False,
                )
                data = client.conversation_get(str(message["conversation_id"]))
        except IntercomError as error:
            raise CommandError(f"Intercom answered: {error}") from error
        conversation = conversation_sync(data=data, source="webhook")
        decision = (
            RoutingDecision.objects.filter(conversation=conversation)
            .select_related("assignee", "team")
            .first()
        )
        self.stdout.write(f"{chosen.display_name} wrote in: conversation {conversation.intercom_id}.")
        if decision is None:
            self.stdout.write("Not routed: there is no routing rule (routing is off).")
            return
        self.stdout.write(f"Routed: {decision.reason}")
        self.stdout.write(
            "The worker assigns it in the fake Intercom within a minute (or run manage.py intercom_drain)."
        )

    def _account(self, external_id: str | None) -> Account:
        accounts = Account.objects.select_related("tier").order_by("tier__rank", "pk")
        if external_id:
            found = accounts.filter(external_id=external_id).first()
            if found is None:
                raise CommandError(f"No account has the external id {external_id!r}.")
            return found
        found = accounts.first()
        if found is None:
            raise CommandError("There are no accounts: `make run` seeds the demo data.")
        return found

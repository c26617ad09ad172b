import random
import resource
import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.urls import reverse

from accounts.demo import seed_exposure, seed_portfolio
from disputes.demo import seed_markets
from disputes.demo_cases import seed_cases, seed_open_cases
from disputes.radar.demo import seed_radar
from feedback.demo import seed_feedback
from oncall.demo import seed_oncall
from playbooks.demo import REVISIONS, seed_playbooks
from portal.db import bulk_load
from portal.demo import seed_people
from portal.models import User
from portal.services import roles_sync, schedules_sync
from reports.demo import accounts_dated_before_their_history, seed_history
from reports.rollups import rollups_rebuild
from reports.weekly.freezing import weeks_backfill
from support.demo import seed_conversations, seed_open_conversations
from support.routing.demo import seed_routing
from support.sla.bulk import sla_evaluate_open
from support.sla.defaults import sla_defaults_ensure

DEMO_PASSWORD = "demo"


class Command(BaseCommand):
    help = (
        "Fill an empty database with a realistic, deterministic demo data set. "
        "Refuses a database that already holds data unless --force (which flushes it first), and "
        "refuses to run with DEBUG off unless --i-know-this-is-production (the users then get no "
        "usable password unless --password gives a strong one; never demo)."
    )

    @staticmethod
    def _statistics():
        with connection.cursor() as cursor:
            # VACUUM cannot run inside a transaction (a test's): ANALYZE alone there.
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20261125, help="Random seed (same seed, same data).")
        parser.add_argument(
            "--password",
            default=None,
            help=f"Password of every demo user (default: {DEMO_PASSWORD} with DEBUG on; with DEBUG off none: "
            "the users get unusable passwords, and the password demo is refused).",
        )
        parser.add_argument(
            "--specialists",
            type=int,
            default=12,
            help="Specialists who own accounts, counting `specialist` and `specialist2` (default 12).",
        )
        parser.add_argument("--accounts", type=int, default=300, help="Advanced-user accounts (default 300).")
        parser.add_argument(
            "--markets", type=int, default=60, help="Markets with rule versions (default 60)."
        )
        parser.add_argument(
            "--disputes",
            type=int,
            default=150,
            help="Dispute cases over the last two years, with their history (default 150; none without accounts).",
        )
        parser.add_argument(
            "--playbooks",
            type=int,
            default=0,
            help=f"Generated playbooks of {REVISIONS} revisions each, on top of the starter set of playbooks "
            "and response templates that is always seeded (default 0).",
        )
        parser.add_argument(
            "--feedback",
            type=int,
            default=60,
            help="Feedback items over the last year, with their linked accounts, history and "
            "follow-ups (default 60; none without accounts).",
        )
        parser.add_argument(
            "--conversations",
            type=int,
            default=None,
            help="Intercom conversations in the mirror over the last 90 days, as an import leaves them "
            "(default: 4 per 3 accounts, at most 400; none without accounts).",
        )
        parser.add_argument(
            "--open-items",
            type=int,
            default=0,
            help="Extra open items waiting on the support team, filed over the last 14 days, for the SLA "
            "queue at scale: three in four Intercom conversations, one in four dispute cases (default 0; "
            "none without accounts).",
        )
        parser.add_argument(
            "--history-months",
            type=int,
            default=6,
            help="Months of support history for the leadership reports, ending now (default 6). The "
            "history is on top of the rest: earlier check-ins back to its start at each account's "
            "cadence, and the --history-* items below.",
        )
        parser.add_argument(
            "--history-conversations",
            type=int,
            default=3000,
            help="Intercom conversations created over the history months: answered, some reopened, "
            "mostly closed and a third of those rated, with their SLA clocks (default 3000; none "
            "without accounts).",
        )
        parser.add_argument(
            "--history-cases",
            type=int,
            default=0,
            help="Dispute cases filed over the history months, with replies, decisions (some four-eyes, "
            "a few amended) and SLA clocks (default 0: --disputes already seeds cases over two years).",
        )
        parser.add_argument(
            "--history-escalations",
            type=int,
            default=150,
            help="Resolved escalations raised over the history months (a third by SLA breaches), with "
            "their pages to whoever was on call and their acknowledgements (default 150).",
        )
        parser.add_argument("--force", action="store_true", help="Flush the database first.")
        parser.add_argument(
            "--i-know-this-is-production",
            action="store_true",
            dest="production",
            help="Seed even though DEBUG is off (a staging or production database).",
        )

    @staticmethod
    def _open_items(rng, count: int, specialists: list, progress) -> dict:
        cases = count // 4
        return {
            "conversations": seed_open_conversations(
                rng=rng, count=count - cases, specialists=specialists, progress=progress
            ),
            "cases": seed_open_cases(rng=rng, count=cases, specialists=specialists, progress=progress),
        }

    def handle(self, *args, **options):
        if options["specialists"] < 2:
            raise CommandError("--specialists must be at least 2 (specialist and specialist2).")
        if options["accounts"] < 0 or options["markets"] < 0 or options["disputes"] < 0:
            raise CommandError("--accounts, --markets and --disputes must be 0 or more.")
        if options["playbooks"] < 0:
            raise CommandError("--playbooks must be 0 or more.")
        if options["feedback"] < 0:
            raise CommandError("--feedback must be 0 or more.")
        if options["open_items"] < 0:
            raise CommandError("--open-items must be 0 or more.")
        if not 1 <= options["history_months"] <= 36:
            raise CommandError("--history-months must be between 1 and 36.")
        history = ("history_conversations", "history_cases", "history_escalations")
        if any(options[name] < 0 for name in history):
            raise CommandError(
                "--history-conversations, --history-cases and --history-escalations must be 0 or more."
            )
        if options["conversations"] is None:
            options["conversations"] = min(400, options["accounts"] * 4 // 3)
        if options["conversations"] < 0:
            raise CommandError("--conversations must be 0 or more.")
        password = self._password(options)
        if User.objects.exists():
            if not options["force"]:
                raise CommandError(
                    "The database already holds data. Use --force to flush it and seed again "
                    "(everything in it is deleted)."
                )
            self._step("Flushing the database", lambda: call_command("flush", interactive=False, verbosity=0))
        self._step("Roles and schedules", lambda: (roles_sync(), schedules_sync()))
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        started = time.perf_counter()
        with transaction.atomic(), bulk_load():
            people = self._step(
                "People",
                lambda: seed_people(rng=rng, password=password, specialists=options["specialists"]),
            )
            markets = self._step(
                "Markets and rulebook",
                lambda: seed_markets(rng=rng, count=options["markets"], progress=self._progress),
            )
            portfolio = self._step(
                "Portfolio",
                lambda: seed_portfolio(
                    rng=rng,
                    specialists=people.specialists,
                    count=options["accounts"],
                    progress=self._progress,
                ),
            )
            # Neither draws from `rng`: the data below stays the same.
            exposure = self._step(
                "Wallet positions (synthetic Data API)", lambda: seed_exposure(progress=self._progress)
            )
            radar = self._step("Resolution radar", lambda: seed_radar(owner=people.by_username["specialist"]))
            oncall = self._step(
                "On-call rota and escalation policy",
                lambda: seed_oncall(specialists=people.specialists, lead=people.by_username["specialist2"]),
            )
            # A flush removed the default calendars and policies the migration seeded; the tiers
            # they name exist now, and the items below start their clocks as they are stored.
            self._step("SLA calendars and policies", sla_defaults_ensure)
            cases = self._step(
                "Dispute cases",
                lambda: seed_cases(
                    rng=rng,
                    count=options["disputes"],
                    specialists=people.specialists,
                    progress=self._progress,
                ),
            )
            playbooks = self._step(
                "Playbooks",
                lambda: seed_playbooks(
                    rng=rng,
                    specialists=people.specialists,
                    count=options["playbooks"],
                    progress=self._progress,
                ),
            )
            feedback = self._step(
                "Feedback",
                lambda: seed_feedback(
                    rng=rng,
                    count=options["feedback"],
                    specialists=people.specialists,
                    product_users=[people.by_username["product"]],
                    progress=self._progress,
                ),
            )
            # Last, so the data the steps above draw from the same random sequence stays the same.
            conversations = self._step(
                "Intercom conversations",
                lambda: seed_conversations(rng=rng, count=options["conversations"], progress=self._progress),
            )
            open_items = self._step(
                "Open items for the SLA queue",
                lambda: self._open_items(rng, options["open_items"], people.specialists, self._progress),
            )
            history = self._step(
                "History for the reports",
                lambda: seed_history(
                    # A random sequence of its own: the history does not move the data above.
                    rng=random.Random(options["seed"] + 1),  # noqa: S311 - demo data, not secrets
                    months=options["history_months"],
                    conversations=options["history_conversations"],
                    cases=options["history_cases"],
                    escalations=options["history_escalations"],
                    specialists=people.specialists,
                    lead=people.by_username["specialist2"],
                    progress=self._progress,
                ),
            )
            self._step("Accounts dated before their history", accounts_dated_before_their_history)
            clocks = self._step("SLA clocks of the other open items", sla_evaluate_open)
            self._step("The reports' daily rollups", rollups_rebuild)
            frozen = self._step(
                "Frozen weeks (the reports' last 12)",
                lambda: weeks_backfill(min(12, options["history_months"] * 4)),
            )
            # After the items above, which are history: routing applies to what arrives next.
            routing = self._step("Routing rules", lambda: seed_routing(specialists=people.specialists))
        # Fresh statistics after a bulk load, so the query planner knows the tables' sizes now; on
        # PostgreSQL a VACUUM too, which autovacuum would do later: until the pages are marked
        # all-visible, a covering index still reads the table.
        self._step("Statistics", self._statistics)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.perf_counter() - started:.1f}s:"))
        self.stdout.write(f"  users: {len(people.by_username)} ({len(people.specialists)} specialists)")
        self.stdout.write(
            f"  accounts: {portfolio.accounts}, wallets: {portfolio.wallets}, check-ins: {portfolio.check_ins}, "
            f"health history rows: {portfolio.snapshots}"
        )
        self.stdout.write(
            f"  markets: {markets['markets']} ({markets['versions']} rule versions), "
            f"rulebook sections: {markets['rulebook_sections']}"
        )
        disputed = radar["market"]
        told = (
            f"“{disputed.question}” disputed: {radar['heads_ups']} heads-ups "
            f"({reverse('disputes:market_detail', args=[disputed.pk])})"
            if disputed
            else "no market disputed (the accounts of specialist hold no open demo market)"
        )
        self.stdout.write(
            f"  resolution radar: positions of {exposure['wallets']} wallets ({exposure['exposures']} rows, "
            f"synthetic); {told}"
        )
        self.stdout.write(
            f"  dispute cases: {cases['cases']} ({cases['events']} events, {cases['decisions']} decisions, "
            f"{cases['citations']} citations, {cases['evidence']} evidence items, "
            f"{cases['snapshots']} wallet snapshots with {cases['activity_rows']} activity rows)"
        )
        self.stdout.write(
            f"  playbooks: {playbooks['playbooks']} ({playbooks['revisions']} revisions), "
            f"response templates: {playbooks['templates']}"
        )
        self.stdout.write(
            f"  Intercom conversations: {conversations['conversations']} ({conversations['rated']} rated)"
        )
        self.stdout.write(
            f"  on call: {oncall['rotas']} rota, {oncall['policies']} escalation policy (the default)"
        )
        self.stdout.write(f"  routing: {routing['rules']} rules, {routing['teams']} team (/support/routing/)")
        self.stdout.write(f"  frozen weeks: {frozen} (/reports/weeks/)")
        self.stdout.write(
            f"  SLA: open items added: {open_items['conversations']} conversations and {open_items['cases']} "
            f"cases; open conversations and cases given clocks afterwards: {clocks}"
        )
        self.stdout.write(
            f"  feedback: {feedback['items']} items ({feedback['sources']} linked accounts, "
            f"{feedback['events']} events, {feedback['comments']} comments, "
            f"{feedback['follow_ups']} follow-ups, {feedback['duplicates']} duplicates), "
            f"product areas: {feedback['areas']}"
        )
        self.stdout.write(
            f"  history over {options['history_months']} months: {history.get('conversations', 0)} conversations "
            f"({history.get('closed', 0)} closed, {history.get('rated', 0)} rated, "
            f"{history.get('reopened', 0)} reopened), {history.get('cases', 0)} cases "
            f"({history.get('case_replies', 0)} replies, {history.get('decisions', 0)} decisions), "
            f"{history.get('escalations', 0)} escalations ({history.get('pages', 0)} pages), "
            f"{history.get('check_ins', 0)} earlier check-ins"
        )
        self.stdout.write(
            f"  sign in as specialist, specialist2, leadership, product or admin; {self._password_note(options)}"
        )

    def _password(self, options) -> str | None:
        """The demo users' password: `demo` only with DEBUG on. With DEBUG off the command runs only
        when told it is production, and then the users get unusable passwords unless --password
        names one the password validators accept."""
        password = options["password"]
        if password == "":
            raise CommandError("--password must not be empty.")
        if settings.DEBUG:
            return DEMO_PASSWORD if password is None else password
        if not options["production"]:
            raise CommandError(
                "DEBUG is off, so this looks like a production database, and seed_demo creates "
                "well-known users (admin, specialist, …). Run it with DEBUG=true (make run does), or "
                "pass --i-know-this-is-production: the users then get unusable passwords unless "
                "--password gives a strong one."
            )
        if password == DEMO_PASSWORD:
            raise CommandError(f"--password {DEMO_PASSWORD} is refused with DEBUG off: choose a strong one.")
        if password is not None:
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("--password: " + " ".join(error.messages)) from error
        return password

    def _password_note(self, options) -> str:
        if settings.DEBUG:
            return f"password: {options['password'] or DEMO_PASSWORD}"
        if options["password"]:
            return "password: the one given with --password"
        return (
            "no one can sign in yet: set a password with `python manage.py changepassword admin` "
            "(and the others), or use password reset"
        )

    def _progress(self, message: str) -> None:
        self.stdout.write(f" {message}", ending="")
        self.stdout.flush()

    def _step(self, label, action):
        self.stdout.write(f"{label}…", ending="")
        self.stdout.flush()
        started = time.perf_counter()
        result = action()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kilobytes on Linux
        self.stdout.write(f" done ({time.perf_counter() - started:.2f}s; peak memory so far {peak} MB)")
        return result

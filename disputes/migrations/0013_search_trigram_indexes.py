"""Case search by words on PostgreSQL (issue 23): trigram indexes on the expressions Django's
`icontains` and `iexact` compare (UPPER(column::text)), so the words are looked up in the accounts
and markets without reading either table whole. PostgreSQL only: SQLite reads its LIKE over the
two small tables, with the same results (see disputes.selectors.cases.case_list)."""

from django.db import migrations

INDEXES = [
    # UPPER("accounts_account"."display_name"::text) LIKE UPPER(%s): display_name__icontains
    (
        "account_name_trgm_idx",
        "accounts_account USING gin ((UPPER(display_name::text)) gin_trgm_ops)",
    ),
    # UPPER("disputes_market"."question"::text) LIKE UPPER(%s): question__icontains
    (
        "market_question_trgm_idx",
        "disputes_market USING gin ((UPPER(question::text)) gin_trgm_ops)",
    ),
    # UPPER("accounts_account"."email"::text) = UPPER(%s): email__iexact, the other side of the
    # accounts' OR (without it PostgreSQL cannot combine the two and reads every account).
    ("account_email_upper_idx", "accounts_account ((UPPER(email::text)))"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # The pg_trgm extension stays: other objects may have come to use it.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_check_in_proactive"),
        ("disputes", "0012_case_open_assignee_index"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""Importing a book of business from CSV: the upload page and `manage.py import_accounts`.

The contract. Every row is checked before anything is written, and every error is reported by
line (as a spreadsheet numbers it: the header is line 1) and column. Rows match accounts by
external id: a new one is created, an existing one gets only the fields that differ (and the
wallets it lacks), an identical one is left alone, so importing the same file twice changes
nothing. An empty optional cell means "not given": the default for a new account, the current
value for an existing one; wallets are only ever added. Writing is one transaction: nothing is
written while any row is invalid unless the person asked for the valid rows only, and a crash
part-way leaves nothing behind.

The parts: `parsing` reads the file and its header, `lookups` loads what the rows refer to,
`checks` checks each row and plans its write, `results` is what an import reports, `help` the
documented format and the example file. The writes are `accounts.services.importing`; the list
of recent imports is `accounts.importing.selectors`.
"""

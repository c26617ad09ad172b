import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from disputes.models import RulebookSection, RulebookSectionVersion
from disputes.selectors import rulebook_section_at
from disputes.services import rulebook_import, rulebook_section_save

pytestmark = pytest.mark.django_db
DAY1, DAY2 = dt.date(2026, 1, 1), dt.date(2026, 6, 1)
BOOK = """# Demo rulebook

## 1 Scope

Covers orders.

## 2 Orders

### 2.1 Limit orders

Every order is a limit order.
"""


def test_import_creates_numbered_sections_and_a_reimport_versions_only_what_changed():
    assert rulebook_import(text=BOOK, venue="international", effective_from=DAY1, by=None) == {
        "created": 3,
        "changed": 0,
        "unchanged": 0,
    }
    assert rulebook_import(text=BOOK, venue="international", effective_from=DAY2, by=None)["unchanged"] == 3
    edited = BOOK.replace(
        "Every order is a limit order.", "Every order is a limit order, including market orders."
    )
    assert rulebook_import(text=edited, venue="international", effective_from=DAY2, by=None) == {
        "created": 0,
        "changed": 1,
        "unchanged": 2,
    }
    section = RulebookSection.objects.get(number="2.1")
    assert section.current_version.number == 2
    assert rulebook_section_at(section, DAY1).number == 1
    assert rulebook_section_at(section, DAY2).number == 2
    assert rulebook_section_at(section, dt.date(2025, 1, 1)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("## 1 Scope\n\nx\n\n## 1 Again\n\ny\n", "appears twice"),
        ("## 1 Scope\n\nx\n\n## Orders\n\ny\n", "has no section number"),
        ("Just prose, no headings.\n", "text before the first numbered section"),
        ("# Title\n\nOnly a preamble.\n", "No numbered sections"),
    ],
)
def test_a_bad_rulebook_file_is_refused_and_nothing_is_written(text, message):
    with pytest.raises(ValidationError, match=message):
        rulebook_import(text=text, venue="us", effective_from=DAY1, by=None)
    assert not RulebookSection.objects.exists() and not RulebookSectionVersion.objects.exists()


def test_editing_a_section_in_the_portal_saves_a_version_only_when_it_changed(portal_admin):
    section, changed = rulebook_section_save(
        by=portal_admin, venue="us", number="3", title="Fees", body="No fees.", effective_from=DAY1
    )
    assert changed
    _, changed_again = rulebook_section_save(
        by=portal_admin,
        section=section,
        venue="us",
        number="3",
        title="Fees",
        body="No fees.",
        effective_from=DAY2,
    )
    assert not changed_again
    with pytest.raises(ValidationError, match="already exists"):
        rulebook_section_save(
            by=portal_admin, venue="us", number="3", title="X", body="Y", effective_from=DAY1
        )


def test_import_rulebook_command(tmp_path: Path):
    path = tmp_path / "book.md"
    path.write_text(BOOK)
    out = StringIO()
    call_command("import_rulebook", str(path), "--venue", "us", "--effective", "2026-01-01", stdout=out)
    assert "3 new" in out.getvalue()
    path.write_text("## 1 A\n\nx\n\n## 1 B\n")
    with pytest.raises(CommandError, match="appears twice"):
        call_command("import_rulebook", str(path), "--venue", "us", "--effective", "2026-01-01")
    with pytest.raises(CommandError, match="must be a date"):
        call_command("import_rulebook", str(path), "--venue", "us", "--effective", "soon")

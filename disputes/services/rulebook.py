"""The platform rulebook: numbered sections per venue, each versioned like market rules."""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Venue
from disputes.models import RulebookSection, RulebookSectionVersion
from portal.models import User
from portal.revisions import revision_add

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBERED = re.compile(r"^(?:§\s*)?(\d+(?:\.\d+)*)\.?\s+(\S.*)$")
MAX_BODY = 100_000


@dataclass(frozen=True)
class ParsedSection:
    number: str
    title: str
    body: str
    line: int


def sort_key(number: str) -> str:
    return ".".join(part.zfill(4) for part in number.split("."))


def section_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title.strip()}\n\n{body.strip()}".encode()).hexdigest()


def parse_rulebook(text: str) -> list[ParsedSection]:
    """Sections from Markdown whose headings are numbered (`## 4.2 Order types`). A first
    unnumbered top-level heading is the document's title, and prose under it a preamble that
    belongs to no section. Raises ValidationError listing every unnumbered or duplicate heading
    by line."""
    sections, errors, seen = [], [], {}
    title_seen = False
    current: dict | None = None
    body: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines, start=1):
        heading = HEADING.match(line)
        if not heading:
            if current is None and line.strip() and not title_seen and not errors:
                errors.append(f"Line {index}: text before the first numbered section (or a “# Title”).")
            body.append(line)
            continue
        numbered = NUMBERED.match(heading.group(2))
        if not numbered:
            if heading.group(1) == "#" and current is None and not title_seen:
                title_seen = True
                body = []
                continue  # the document title; prose under it is a preamble, not a section
            errors.append(f"Line {index}: the heading “{heading.group(2)[:80]}” has no section number.")
            continue
        if current is not None:
            sections.append(ParsedSection(body="\n".join(body).strip(), **current))
        number, title = numbered.group(1), numbered.group(2).strip()
        if number in seen:
            errors.append(f"Line {index}: section {number} appears twice (first on line {seen[number]}).")
        seen[number] = index
        current, body = {"number": number, "title": title[:200], "line": index}, []
    if current is not None:
        sections.append(ParsedSection(body="\n".join(body).strip(), **current))
    if not sections and not errors:
        errors.append("No numbered sections found. Headings look like “## 4.2 Order types”.")
    if errors:
        raise ValidationError(errors)
    return sections


def _save_version(
    section: RulebookSection, *, title: str, body: str, effective_from: dt.date, origin: str, by: User | None
) -> RulebookSectionVersion | None:
    digest = section_hash(title, body)
    current = section.current_version
    if current is not None and current.content_hash == digest:
        return None
    version = revision_add(
        RulebookSectionVersion,
        parent=section,
        title=title.strip(),
        body=body.strip(),
        effective_from=effective_from,
        content_hash=digest,
        origin=origin,
        recorded_at=timezone.now(),
        recorded_by=by,
    )
    section.title = title.strip()
    section.save(update_fields=["title", "current_version", "updated_at"])
    return version


@transaction.atomic
def rulebook_import(*, text: str, venue: str, effective_from: dt.date, by: User | None) -> dict[str, int]:
    """Import a Markdown rulebook for one venue. Only sections whose title or body changed get a
    new version; nothing is written when the file has an error. Returns counts."""
    if venue not in Venue.values:
        raise ValidationError(f"Unknown venue “{venue}”; use one of {', '.join(Venue.values)}.")
    counts = {"created": 0, "changed": 0, "unchanged": 0}
    for parsed in parse_rulebook(text):
        if len(parsed.body) > MAX_BODY:
            raise ValidationError(
                f"Line {parsed.line}: section {parsed.number} is longer than {MAX_BODY:,} characters."
            )
        section, created = RulebookSection.objects.select_related("current_version").get_or_create(
            venue=venue,
            number=parsed.number,
            defaults={"title": parsed.title, "sort_key": sort_key(parsed.number)},
        )
        version = _save_version(
            section,
            title=parsed.title,
            body=parsed.body,
            effective_from=effective_from,
            origin=RulebookSectionVersion.Origin.IMPORT,
            by=by,
        )
        counts["created" if created else "changed" if version else "unchanged"] += 1
    return counts


@transaction.atomic
def rulebook_section_save(
    *,
    by: User,
    venue: str,
    number: str,
    title: str,
    body: str,
    effective_from: dt.date,
    section: RulebookSection | None = None,
) -> tuple[RulebookSection, bool]:
    """Create a section or save an edit as a new version. Returns (section, whether a version
    was added). A section's number and venue never change once created."""
    errors = {}
    number = (number or "").strip().lstrip("§").strip()
    if section is None and not re.fullmatch(r"\d+(\.\d+)*", number):
        errors["number"] = "Use a section number such as 4 or 4.2."
    if not (title or "").strip():
        errors["title"] = "Give the section a title."
    if not (body or "").strip():
        errors["body"] = "The section's text can't be empty."
    if section is None and RulebookSection.objects.filter(venue=venue, number=number).exists():
        errors["number"] = f"Section {number} already exists for this venue; edit it instead."
    if errors:
        raise ValidationError(errors)
    if section is None:
        section = RulebookSection.objects.create(
            venue=venue, number=number, title=title.strip(), sort_key=sort_key(number)
        )
    else:
        section = (
            RulebookSection.objects.select_for_update(of=("self",))
            .select_related("current_version")
            .get(pk=section.pk)
        )
    version = _save_version(
        section,
        title=title,
        body=body,
        effective_from=effective_from,
        origin=RulebookSectionVersion.Origin.EDIT,
        by=by,
    )
    return section, version is not None

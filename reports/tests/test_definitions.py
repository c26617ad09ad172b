"""Every figure's definition is written in the README, as the page and the CSV write it."""

import re
from pathlib import Path

import pytest
from django.utils import timezone

from reports.metrics import families
from reports.metrics.base import ReportContext
from reports.periods import last_days

README = Path(__file__).resolve().parents[2] / "README.md"


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "")).strip()


@pytest.mark.django_db
def test_the_readme_defines_every_figure():
    readme = normalised(README.read_text())
    tz = timezone.get_current_timezone()
    period = last_days(30, today=timezone.localdate(), tz=tz)
    ctx = ReportContext(period=period, previous=period.previous())
    missing = []
    for family in families():
        for figure in family.build(ctx).figures:
            definition = normalised(figure.definition)
            # A definition that names data (the rotas' time zones) ends with them in brackets.
            if definition not in readme and definition.rsplit("(", 1)[0] not in readme:
                missing.append(f"{family.key}/{figure.key}")
    assert not missing, f"README.md lacks the definitions of {missing}"

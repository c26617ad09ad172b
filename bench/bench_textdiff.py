"""Rule diffs (portal/textdiff.py): time `diff_html` on a ~20 KB rules-like document.

Targets: a ~20 KB, ~300-line version against an edit of it (10% of lines with one to three words
changed, 5 lines inserted, 5 deleted) well under 100 ms; pathological inputs (two unrelated
20 KB texts, a 20 KB single-line paragraph with many edits or shuffled, every line amended, 3,000
heavily repeated short lines) under ~300 ms."""

import random

from bench.timing import measure, summary
from portal.textdiff import diff_html, diff_stats

SEED = 20_240_501
REPEAT = 50
VOCABULARY = (
    "market resolves yes no outcome price source official announcement before after date time utc "
    "the of a to and in is by on for any if this that be will shall may not or as at with from "
    "trader position order settlement dispute clarification committee venue rule section clause "
    "event result reported published confirmed final valid invalid cancelled postponed scheduled "
    "window deadline period hours days calendar business first last earliest latest within between "
    "data feed oracle report proposal challenge bond reward fee account wallet address balance "
    "league match team player score game round election candidate vote count certified state "
    "government agency body authority website statement press release record index value close"
)
WORDS = VOCABULARY.split()
HEADINGS = ("Scope", "Definitions", "Resolution", "Sources", "Timing", "Disputes", "Edge cases", "Fees")


def rules_document(rng: random.Random, *, target_chars: int = 20_000) -> list[str]:
    """Numbered clauses of 8-20 words under headings, with blank lines between sections."""
    lines: list[str] = []
    section = 0
    while sum(len(line) + 1 for line in lines) < target_chars:
        section += 1
        lines.extend([f"§{section} {rng.choice(HEADINGS)}", ""])
        for clause in range(1, rng.randint(5, 10) + 1):
            words = rng.choices(WORDS, k=rng.randint(8, 20))
            words[0] = words[0].capitalize()
            if rng.random() < 0.3:
                words[rng.randrange(1, len(words))] += ","
            lines.append(f"{section}.{clause} {' '.join(words)}.")
        lines.append("")
    return lines


def edited(rng: random.Random, lines: list[str]) -> tuple[list[str], int]:
    """10% of clause lines get 1-3 words replaced; 5 lines deleted and 5 inserted elsewhere."""
    clauses = [i for i, line in enumerate(lines) if line[:1].isdigit()]
    chosen = rng.sample(clauses, len(lines) // 10 + 10)
    edit, delete, insert = chosen[: len(lines) // 10], set(chosen[-10:-5]), set(chosen[-5:])
    result = list(lines)
    for i in edit:
        words = result[i].split(" ")
        for position in rng.sample(range(1, len(words) - 1), rng.randint(1, 3)):
            words[position] = rng.choice([w for w in WORDS if w != words[position]]) + "ed"
        result[i] = " ".join(words)
    out = []
    for i, line in enumerate(result):
        if i in insert:
            out.append(f"{rng.randint(1, 9)}.9 New clause: " + " ".join(rng.choices(WORDS, k=12)) + ".")
        if i not in delete:
            out.append(line)
    return out, len(edit)


def run(report):
    rng = random.Random(SEED)
    old_lines = rules_document(rng)
    new_lines, edits = edited(rng, old_lines)
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    report.figure("document", f"{len(old):,} chars, {len(old_lines)} lines; {edits} edited, 5 in, 5 out")
    report.figure("  stats", str(diff_stats(old, new)))
    report.figure("  html size", f"{len(diff_html(old, new)):,}", "chars")
    report.figure(
        "diff_html, ~20 KB, 10% edited", summary(measure(lambda: diff_html(old, new), repeat=REPEAT))
    )
    report.figure(
        "diff_stats, ~20 KB, 10% edited", summary(measure(lambda: diff_stats(old, new), repeat=REPEAT))
    )

    unrelated = "\n".join(rules_document(random.Random(SEED + 1)))
    _pathological(report, "two unrelated ~20 KB texts", old, unrelated)

    paragraph = " ".join(line for line in old_lines if line)
    words = paragraph.split(" ")
    for position in rng.sample(range(len(words)), len(words) // 20):
        words[position] = "changed"
    _pathological(report, f"one ~20 KB line, {len(words) // 20} word edits", paragraph, " ".join(words))

    shuffled = paragraph.split(" ")
    rng.shuffle(shuffled)
    _pathological(report, "one ~20 KB line vs its words shuffled", paragraph, " ".join(shuffled))

    amended = "\n".join(f"{line} (amended)" for line in old_lines)
    _pathological(report, "every line amended (one ~300-line block)", old, amended)

    repeated = [rng.choice(["Yes.", "No.", "", "See §2."]) for _ in range(3000)]
    reordered = [rng.choice(["Yes.", "No.", "", "See §2."]) for _ in range(3000)]
    _pathological(report, "3,000 short lines drawn from 4 values", "\n".join(repeated), "\n".join(reordered))


def _pathological(report, label, old, new):
    report.figure(f"{label}: stats", str(diff_stats(old, new)))
    report.figure(
        f"  diff_html ({len(diff_html(old, new)):,} chars)",
        summary(measure(lambda: diff_html(old, new), repeat=20)),
    )

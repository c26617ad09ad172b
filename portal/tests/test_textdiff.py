"""portal.textdiff: line and word diffs of two versions of a plain-text document, as HTML."""

import html
import random
import re

from django.utils.safestring import SafeString

from portal.textdiff import diff_html, diff_stats

LINE = re.compile(r'<div class="diff__line diff__line--(\w+)">(.*?)</div>')
SKIP = re.compile(r'<div class="diff__skip">… (\d+) unchanged lines …</div>')


def _lines(rendered: str) -> list[tuple[str, str]]:
    return LINE.findall(rendered)


def _old_side(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<ins[^>]*>.*?</ins>", "", body)))


def _new_side(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<del[^>]*>.*?</del>", "", body)))


def test_one_word_change_marks_exactly_that_word():
    old = "The market resolves Yes if the official result is published before 1 May, 12:00 UTC."
    new = "The market resolves Yes if the certified result is published before 1 May, 12:00 UTC."

    rendered = diff_html(old, new)

    assert isinstance(rendered, SafeString)
    [(kind, body)] = _lines(rendered)
    assert kind == "changed"
    assert re.findall(r"<del>(.*?)</del>", body) == ["official"]
    assert re.findall(r"<ins>(.*?)</ins>", body) == ["certified"]
    assert _old_side(body) == old
    assert _new_side(body) == new


def test_punctuation_after_a_changed_word_stays_unmarked():
    rendered = diff_html("Settles within 24 hours.", "Settles within 48 hours.")

    [(_, body)] = _lines(rendered)
    assert body == "Settles within <del>24</del><ins>48</ins> hours."


def test_added_and_removed_lines_are_shown_whole():
    old = "Scope\nThis line goes away.\nSources"
    new = "Scope\nSources\nA brand new closing clause."

    lines = _lines(diff_html(old, new))

    assert lines == [
        ("same", "Scope"),
        ("removed", "<del>This line goes away.</del>"),
        ("same", "Sources"),
        ("added", "<ins>A brand new closing clause.</ins>"),
    ]
    assert diff_stats(old, new) == {"added": 1, "removed": 1, "changed": 0, "unchanged": 2}


def test_an_edited_line_next_to_an_inserted_one_is_still_shown_as_changed():
    old = "Intro\nThe bond is 500 USDC per proposal.\nOutro"
    new = "Intro\nA totally fresh sentence appears here.\nThe bond is 750 USDC per proposal.\nOutro"

    lines = _lines(diff_html(old, new))

    assert [kind for kind, _ in lines] == ["same", "added", "changed", "same"]
    assert "<del>500</del><ins>750</ins>" in lines[2][1]


def test_long_unchanged_runs_collapse_to_three_lines_of_context():
    old_lines = [f"Clause {n} stays as it is." for n in range(1, 31)]
    new_lines = list(old_lines)
    new_lines[14] = "Clause 15 stays as it was."

    rendered = diff_html("\n".join(old_lines), "\n".join(new_lines))

    # 14 unchanged lines before the change and 15 after: 3 shown beside it, the rest folded.
    assert [int(n) for n in SKIP.findall(rendered)] == [11, 12]
    kinds = [kind for kind, _ in _lines(rendered)]
    assert kinds == ["same"] * 3 + ["changed"] + ["same"] * 3
    assert rendered.index("… 11 unchanged lines …") < rendered.index("Clause 12 ")
    assert "Clause 11 " not in rendered
    assert "Clause 19 " not in rendered


def test_a_run_one_line_longer_than_the_context_is_not_folded():
    old = "a\nb\nc\nd\nchange this"
    new = "a\nb\nc\nd\nchange that"

    rendered = diff_html(old, new)

    assert "diff__skip" not in rendered
    assert len(_lines(rendered)) == 5


def test_identical_inputs_say_no_changes():
    rendered = diff_html("Same text.\nTwo lines.", "Same text.\nTwo lines.")

    assert rendered == '<div class="diff diff--none">No changes</div>'
    assert diff_stats("Same text.", "Same text.") == {"added": 0, "removed": 0, "changed": 0, "unchanged": 1}
    assert "No changes" in diff_html("", "")


def test_empty_old_shows_everything_added_and_empty_new_everything_removed():
    text = "First rule.\nSecond rule."

    assert [kind for kind, _ in _lines(diff_html("", text))] == ["added", "added"]
    assert [kind for kind, _ in _lines(diff_html(text, ""))] == ["removed", "removed"]
    assert diff_stats("", text) == {"added": 2, "removed": 0, "changed": 0, "unchanged": 0}
    assert diff_stats(text, "") == {"added": 0, "removed": 2, "changed": 0, "unchanged": 0}


def test_markup_in_either_version_is_escaped():
    old = "Resolves <script>alert(1)</script> on R&D results"
    new = "Resolves <script>alert(2)</script> on R&D results\n<b>bold</b> & <i>new</i>"

    rendered = diff_html(old, new)

    assert "<script>" not in rendered
    assert "<b>" not in rendered
    assert "&lt;script&gt;" in rendered
    assert "R&amp;D" in rendered
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;new&lt;/i&gt;" in rendered
    for _, body in _lines(rendered):
        assert "&" not in re.sub(r"&(lt|gt|amp|quot|#x27);", "", body)
    removed_only = diff_html("<script>x</script>", "")
    assert "<script>" not in removed_only


def test_crlf_and_lf_versions_of_the_same_text_have_no_changes():
    assert "No changes" in diff_html("One\r\nTwo\r\n", "One\nTwo\n")
    assert "No changes" in diff_html("One\rTwo", "One\nTwo")
    lines = _lines(diff_html("One\r\nTwo\r\nThree", "One\nTwo\nFour"))
    assert all("\r" not in body for _, body in lines)
    assert [kind for kind, _ in lines] == ["same", "same", "removed", "added"]


def test_trailing_whitespace_is_shown_as_a_change():
    rendered = diff_html("Rule one.  \nRule two.", "Rule one.\nRule two.")

    assert _lines(rendered)[0] == ("changed", 'Rule one.<del class="diff__ws">  </del>')
    assert diff_stats("Rule one.\t", "Rule one.")["changed"] == 1
    assert diff_stats("", "   ")["added"] == 1


def test_unicode_words_are_diffed_and_kept_intact():
    old = "Le marché se résout « Oui » si l'équipe gagne — 東京 ✓"
    new = "Le marché se résout « Non » si l'équipe gagne — 大阪 ✓"

    [(kind, body)] = _lines(diff_html(old, new))

    assert kind == "changed"
    assert re.findall(r"<del>(.*?)</del>", body) == ["Oui", "東京"]
    assert re.findall(r"<ins>(.*?)</ins>", body) == ["Non", "大阪"]
    assert html.unescape(_new_side(body)) == new


def test_unrelated_lines_are_removed_and_added_not_paired():
    rendered = diff_html("Yes.", "No.")

    assert [kind for kind, _ in _lines(rendered)] == ["removed", "added"]


def test_stats_count_added_removed_and_changed_lines():
    old = "keep one\nedit the first word\nkeep two\ndrop this line\nedit the last word\nkeep three"
    new = (
        "keep one\nedit the 1st word\nkeep two\nedit the final word\nkeep three\nappended line\nand one more"
    )

    assert diff_stats(old, new) == {"added": 2, "removed": 1, "changed": 2, "unchanged": 3}


def test_very_long_single_line_with_many_edits_marks_each_edit():
    rng = random.Random(3)
    words = [f"w{rng.randrange(500)}" for _ in range(3000)]
    sentences = [" ".join(words[i : i + 15]) + "." for i in range(0, len(words), 15)]
    old = " ".join(sentences)
    edited = list(sentences)
    for index in range(0, len(edited), 10):
        edited[index] = edited[index].replace(" ", " edited ", 1)
    new = " ".join(edited)

    [(kind, body)] = _lines(diff_html(old, new))

    assert kind == "changed"
    assert body.count("<ins>") == len(range(0, len(edited), 10))
    assert "<del>" not in body
    assert _old_side(body) == old
    assert _new_side(body) == new


VOCABULARY = (
    "market resolves yes no outcome price source official announcement before after date time the of "
    "a to and in is by on for any if this shall may not trader position settlement dispute committee "
    "venue rule clause event result reported published final valid window deadline hours days"
)


def _rules_document(rng: random.Random) -> list[str]:
    words = VOCABULARY.split()
    lines = []
    for section in range(1, 31):
        lines.extend([f"§{section} Section {section}", ""])
        for clause in range(1, 9):
            lines.append(f"{section}.{clause} {' '.join(rng.choices(words, k=rng.randint(8, 16)))}.")
    return lines


def test_a_20kb_document_with_scattered_edits_is_diffed_correctly():
    rng = random.Random(11)
    old_lines = _rules_document(rng)
    clauses = [i for i, line in enumerate(old_lines) if line[:1].isdigit()]
    picked = rng.sample(clauses, 40)
    edits, deleted, inserted = picked[:30], set(picked[30:35]), set(picked[35:])
    new_lines, expected = [], {}
    for i, line in enumerate(old_lines):
        if i in inserted:
            new_lines.append(f"Inserted clause {i} " + " ".join(f"extra{n}" for n in range(10)))
        if i in deleted:
            continue
        if i in edits:
            words = line.split(" ")
            position = rng.randrange(1, len(words) - 1)
            words[position] = f"EDIT{i}"
            expected[line] = " ".join(words)
            line = expected[line]
        new_lines.append(line)
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    assert len(old) > 15_000

    rendered = diff_html(old, new)

    assert diff_stats(old, new) == {"added": 5, "removed": 5, "changed": 30, "unchanged": len(old_lines) - 35}
    lines = _lines(rendered)
    changed = [body for kind, body in lines if kind == "changed"]
    assert {_old_side(body): _new_side(body) for body in changed} == expected
    for body in changed:
        assert len(re.findall(r"<ins>EDIT\d+</ins>", body)) == 1
    # Every line of each version is accounted for: shown, or counted in a fold marker.
    folded = sum(int(n) for n in SKIP.findall(rendered))
    shown = {kind: sum(1 for k, _ in lines if k == kind) for kind in ("same", "added", "removed", "changed")}
    assert shown["same"] + folded + shown["changed"] + shown["removed"] == len(old_lines)
    assert shown["same"] + folded + shown["changed"] + shown["added"] == len(new_lines)

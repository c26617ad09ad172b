"""Playbook Markdown (playbooks/markdown.py): time `render_markdown` on a 200 KB document.

Callers cap playbooks at 200 KB. Targets: a realistic 200 KB playbook (headings, paragraphs with
emphasis, links and inline code, lists, task lists, tables, fenced code) well under 500 ms;
pathological 200 KB inputs (one giant paragraph, unclosed brackets and emphasis markers, deep
blockquote/list nesting, thousands of identical headings, a huge table) of the same order, no
super-linear blow-up."""

import random

from bench.timing import measure, summary
from playbooks.markdown import render_markdown

SEED = 20_240_601
SIZE = 200 * 1024
REPEAT = 15
VOCABULARY = (
    "customer account wallet deposit withdrawal pending confirm verify escalate ticket case "
    "specialist review evidence screenshot transaction hash network fee refund policy limit "
    "the a to and of in for with on by before after within hours days check ask reply close "
    "market resolution dispute source rule clause outcome status note template macro queue"
)
WORDS = VOCABULARY.split()


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 20))
    words[0] = words[0].capitalize()
    roll = rng.random()
    if roll < 0.2:
        words[rng.randrange(len(words))] = f"**{rng.choice(WORDS)}**"
    elif roll < 0.35:
        words[rng.randrange(len(words))] = f"`{rng.choice(WORDS)}_id`"
    elif roll < 0.5:
        word = rng.choice(WORDS)
        words[rng.randrange(len(words))] = f"[{word}](https://help.example.com/{word}#{rng.choice(WORDS)})"
    elif roll < 0.55:
        words[rng.randrange(len(words))] = f"*{rng.choice(WORDS)}*"
    return " ".join(words) + "."


def realistic_playbook(rng: random.Random, size: int = SIZE) -> str:
    parts: list[str] = []
    total = 0
    section = 0
    while total < size:
        section += 1
        block = [f"## {section}. {' '.join(rng.choices(WORDS, k=3)).capitalize()}", ""]
        for _ in range(rng.randint(2, 4)):
            block += [" ".join(_sentence(rng) for _ in range(rng.randint(2, 5))), ""]
        block += [f"### {' '.join(rng.choices(WORDS, k=2)).capitalize()}", ""]
        kind = rng.random()
        if kind < 0.3:
            block += [f"- [{rng.choice(' x')}] {_sentence(rng)}" for _ in range(rng.randint(3, 8))]
        elif kind < 0.55:
            block += [f"{i}. {_sentence(rng)}" for i in range(1, rng.randint(3, 8))]
        elif kind < 0.75:
            block += ["| Step | Owner | Notes |", "|:--|:-:|--:|"]
            block += [
                f"| {i} | {rng.choice(WORDS)} | {_sentence(rng)} |" for i in range(1, rng.randint(3, 8))
            ]
        else:
            block += ["```python"] + [f"    check_{rng.choice(WORDS)}(case, limit={i})" for i in range(6)]
            block += ["```"]
        block += ["", f"> {_sentence(rng)}", ""]
        text = "\n".join(block) + "\n"
        parts.append(text)
        total += len(text)
    return "".join(parts)[:size]


def _time(report, label: str, text: str, repeat: int = REPEAT) -> None:
    rendered = render_markdown(text)
    report.figure(
        f"{label} ({len(text):,} chars -> {len(rendered.html):,}, {len(rendered.toc)} toc)",
        summary(measure(lambda: render_markdown(text), repeat=repeat)),
    )


def run(report):
    from playbooks.markdown import _CLEANER, _PARSER  # split the time between the two stages

    rng = random.Random(SEED)
    document = realistic_playbook(rng)
    _time(report, "realistic playbook, 200 KB", document)
    raw = _PARSER.render(document, {})
    report.figure(
        "  of which markdown-it", summary(measure(lambda: _PARSER.render(document, {}), repeat=REPEAT))
    )
    report.figure("  of which nh3", summary(measure(lambda: _CLEANER.clean(raw), repeat=REPEAT)))
    _time(report, "realistic playbook, 20 KB", realistic_playbook(rng, 20 * 1024), repeat=50)

    paragraph = " ".join(_sentence(rng) for _ in range(SIZE // 90))[:SIZE]
    _time(report, "one 200 KB paragraph", paragraph)
    _time(report, "unclosed '[' x 200K", "[" * SIZE)
    _time(report, "unclosed '*a' / '_a' markers", ("*a _a " * (SIZE // 6))[:SIZE])
    _time(report, "'[a](' x 40K (unclosed links)", ("[a](" * (SIZE // 4))[:SIZE])
    _time(report, "nested '> ' x 100K", ">" * (SIZE // 2))
    _time(report, "nested list items", "".join(f"{'  ' * i}- x\n" for i in range(600))[:SIZE])
    _time(report, "200 KB of links, one paragraph", ("[a](/b) " * (SIZE // 8))[:SIZE])
    _time(report, "one 200 KB table", ("| a | b |\n|---|---|\n" + "| x | `y` |\n" * 20_000)[:SIZE])
    _time(report, "5,000 identical headings", "## Same\n\n" * 5000)
    _time(report, "one table, 6,000 rows", "| a | b |\n|---|---|\n" + "| x | `y` |\n" * 6000)
    _time(
        report,
        "raw HTML / XSS soup",
        ('<img src=x onerror=alert(1)> [x](javascript:1) <a href="x">' * 3000)[:SIZE],
    )

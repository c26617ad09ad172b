import datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from jinja2.sandbox import SecurityError

from accounts.models import Tier, Venue
from playbooks.rendering import (
    ALLOWED_FILTERS,
    MAX_OUTPUT_CHARS,
    MAX_SOURCE_CHARS,
    PLACEHOLDERS,
    TemplateProblem,
    example_context,
    placeholder_help,
    plain_context,
    render,
    render_preview,
    render_template,
    validate_template,
)
from playbooks.rendering.sandbox import ENV


def context(**changes):
    data = example_context()
    data.update(changes)
    return data


# --- rendering --------------------------------------------------------------------------------------


def test_renders_placeholders_and_a_citations_loop():
    source = (
        "Hi {{ account.first_name }}, about {{ case.reference }} ({{ market.question }}):\n"
        "{{ decision.outcome|upper }}\n"
        "{% for citation in citations %}{{ loop.index }}. {{ citation.excerpt }} — {{ citation.source }}\n"
        "{% else %}No citations.\n{% endfor %}"
        "{{ specialist.name }}\n"
    )
    data = context(
        citations=[
            {"excerpt": "Resolves per the official site.", "source": "Market rules"},
            {"excerpt": "Late announcements don't count.", "source": "Rulebook § 4.2"},
        ]
    )

    assert validate_template(source) == []
    assert render_template(source, data) == (
        "Hi Dana, about DC-2025-0042 (Will the central bank cut rates at its March 2025 meeting?):\n"
        "UPHELD\n"
        "1. Resolves per the official site. — Market rules\n"
        "2. Late announcements don't count. — Rulebook § 4.2\n"
        "Sam Okafor\n"
    )
    assert render_template(source, context(citations=[])).endswith("No citations.\nSam Okafor\n")


def test_every_documented_placeholder_renders_with_the_example_context():
    fields = [
        f"{{{{ {root}.{name} }}}}"
        for root, names in PLACEHOLDERS.items()
        if root != "citations"
        for name in names
    ]
    source = "\n".join(fields) + "\n{% for c in citations %}{{ c.excerpt }}|{{ c.source }}{% endfor %}"

    assert validate_template(source) == []
    lines = render_preview(source).splitlines()
    assert lines[0] == "Dana Whitfield"
    assert all(line.strip() for line in lines)


def test_placeholder_help_lists_every_placeholder_with_a_description():
    rows = dict(placeholder_help())

    assert rows["{{ account.display_name }}"] == "The account's name"
    assert "{% for citation in citations %}…{% endfor %}" in rows
    assert "{{ citation.excerpt }}" in rows
    assert "{{ loop.index }}" in rows
    for root, names in PLACEHOLDERS.items():
        for name in names:
            snippet = f"{{{{ citation.{name} }}}}" if root == "citations" else f"{{{{ {root}.{name} }}}}"
            assert rows[snippet]
    # Every snippet of the help is itself a valid template (the loop row aside).
    for snippet in rows:
        if "citation." in snippet or "loop." in snippet:
            snippet = f"{{% for citation in citations %}}{snippet}{{% endfor %}}"
        assert validate_template(snippet) == [], snippet


def test_output_is_plain_text_not_escaped_and_keeps_the_trailing_newline():
    data = context(account={**example_context()["account"], "display_name": "<b>Tom & Jerry</b>"})

    assert render_template("{{ account.display_name }}\n", data) == "<b>Tom & Jerry</b>\n"


def test_none_renders_empty_and_default_fills_it_in():
    data = context(account={**example_context()["account"], "owner_name": None})

    assert render_template("[{{ account.owner_name }}]", data) == "[]"
    assert render_template('{{ account.owner_name|default("our team", true) }}', data) == "our team"
    assert render_template('{{ account.owner_name or "our team" }}', data) == "our team"


def test_allowed_filters_and_tests_work():
    source = (
        "{{ case.claim|truncate(30) }}|{{ citations|length }}|"
        '{{ citations|join("; ", attribute="source") }}|{{ case.amount_at_stake|replace(",", "")|float|round(1) }}|'
        '{{ market.question|replace("central bank", "Fed") }}|{{ "  x "|trim }}|{{ specialist.name|lower|title }}|'
        "{% if case.reference is string and check_in is defined %}ok{% endif %}"
    )

    assert validate_template(source) == []
    assert render_preview(source) == (
        "The market resolved No...|2|Market rules, version of 1 March 2025; Rulebook § 4.2 Resolution sources|"
        "12500.0|Will the Fed cut rates at its March 2025 meeting?|x|Sam Okafor|ok"
    )
    assert set(ALLOWED_FILTERS) == set(ENV.filters)


def test_a_group_may_be_tested_for_presence():
    source = (
        "{% if escalation is defined %}Escalated: {{ escalation.level }}{% else %}Not escalated{% endif %}"
    )
    data = context()
    del data["escalation"]

    assert validate_template(source) == []
    assert render_preview(source) == "Escalated: Tier 2"
    assert render_template(source, data) == "Not escalated"


def test_compiled_templates_are_cached():
    source = "Cached {{ case.reference }} for {{ account.display_name }}"
    render_template(source, example_context())
    hits = render._compiled.cache_info().hits

    render_template(source, example_context())

    assert render._compiled.cache_info().hits == hits + 1


# --- refused when saved -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ account.password }}", "Unknown placeholder account.password"),
        ("{{ case.account }}", "Unknown placeholder case.account"),
        ("{{ case.account.email }}", "Unknown placeholder case.account.email"),
        ("{{ customer.name }}", "Unknown placeholder customer.name"),
        ("{{ account.__class__ }}", "Unknown placeholder account.__class__"),
        ("{{ account['__class__'] }}", "Unknown placeholder account.__class__"),
        ("{{ ''.__class__.__mro__ }}", "''.__class__.__mro__: fields can only be read from placeholders"),
        ("{{ citations.__len__ }}", "Unknown placeholder citations.__len__"),
        ("{{ citations.excerpt }}", "Unknown placeholder citations.excerpt"),
        ("{{ cycler.__init__.__globals__ }}", "Unknown placeholder cycler.__init__.__globals__"),
        ("{{ lipsum.__globals__ }}", "Unknown placeholder lipsum.__globals__"),
        ("{{ self._TemplateReference__context }}", "Unknown placeholder self._TemplateReference__context"),
        ("{{ namespace }}", "Unknown placeholder namespace"),
        ("{{ config }}", "Unknown placeholder config"),
        ("{{ request }}", "Unknown placeholder request"),
        ("{{ settings.SECRET_KEY }}", "Unknown placeholder settings.SECRET_KEY"),
        ("{{ account.display_name.format }}", "Unknown placeholder account.display_name.format"),
        ("{{ range(10**9) }}", "range(…) calls a function"),
        ("{{ '{0.__class__}'.format(account) }}", "'{0.__class__}'.format(…) calls a function"),
        ("{{ account.email.upper() }}", "account.email.upper(…) calls a function"),
        ("{{ account.email|format }}", "Unknown filter 'format'"),
        ("{{ account.email|attr('__class__') }}", "Unknown filter 'attr'"),
        ("{{ account.email is sameas case.reference }}", "Unknown test 'sameas'"),
        ("{% include 'x' %}", "{% include %} isn't allowed"),
        ("{% extends 'base.html' %}", "{% extends %} isn't allowed"),
        ("{% import 'x' as y %}", "{% import %} isn't allowed"),
        ("{% from 'x' import y %}", "{% from … import %} isn't allowed"),
        ("{% macro m() %}x{% endmacro %}", "{% macro %} isn't allowed"),
        ("{% set x = account.email %}", "{% set %} isn't allowed"),
        ("{% filter upper %}x{% endfilter %}", "{% filter %} isn't allowed"),
        ("{% block b %}x{% endblock %}", "{% block %} isn't allowed"),
        ("{{ account.tier * 100000 }}", "arithmetic (*) isn't allowed"),
        ("{{ '%s' % account.email }}", "the % operator isn't allowed"),
        ("{{ {'a': 1} }}", "dictionaries"),
        ("{{ account }}", "account is a group of placeholders; use one of account.display_name"),
        ("{{ citations }}", "citations is a list"),
        ("{{ citations[0].excerpt }}", "citations[0]: only a placeholder's named fields can be read"),
        ("{{ citations|join(', ') }}", 'as in citations|join("; ", attribute="excerpt")'),
        (
            "{{ citations|join(', ', attribute='__class__') }}",
            "attribute= of the 'join' filter must be one of",
        ),
        ("{{ citations|upper }}", "the 'upper' filter can't be used on the list citations"),
        ("{{ case.claim|wordwrap(10, true, '<br>') }}", "the 'wordwrap' filter takes at most 2 argument(s)"),
        ("{{ case.claim|wordwrap(wrapstring='x') }}", "the 'wordwrap' filter has no option 'wrapstring'"),
        ("{{ loop.index }}", "Unknown placeholder loop.index"),
        (
            "{% for c in citations %}{{ c.author }}{% endfor %}",
            "Unknown placeholder c.author (c has: excerpt, source)",
        ),
        (
            "{% for c in citations %}{{ c }}{% endfor %}",
            "c is one of the citations; use c.excerpt or c.source",
        ),
        ("{% for c in citations %}{{ loop.cycle('a', 'b') }}{% endfor %}", "loop.cycle(…) calls a function"),
        ("{% for c in account %}{% endfor %}", "{% for %} can only loop over citations, not over account"),
        ("{% for account in citations %}{% endfor %}", "the loop variable can't be called 'account'"),
        (
            "{% for a in citations %}{% for b in citations %}{% endfor %}{% endfor %}",
            "loops can't be nested",
        ),
        ("{{ 'x' if case.status }}", "an inline 'if' needs an 'else'"),
    ],
)
def test_refused_when_saved_with_a_readable_message(source, expected):
    problems = validate_template(source)

    assert problems, source
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith("Line 1: ") for problem in problems), problems
    with pytest.raises(TemplateProblem) as caught:
        render_template(source, example_context())
    assert caught.value.messages == problems


def test_problems_name_the_line_they_are_on():
    source = "Hi {{ account.first_name }},\n\nabout {{ case.secret }}\n{{ market.owner }}"

    assert validate_template(source) == [
        "Line 3: Unknown placeholder case.secret (case has: reference, category, status, claim, "
        "requested_remedy, amount_at_stake, currency, resolution_due).",
        "Line 4: Unknown placeholder market.owner (market has: question, url, resolved_outcome, end_date).",
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hi\nthere\n{{ account.email }", "Line 3: unexpected '}'"),
        # Jinja names the line of the block left open.
        ("{% if case.status %}\nopen\n", "Line 1: Unexpected end of template"),
        ("{{ account.email }}\n{% do x %}", "Line 2: Encountered unknown tag 'do'"),
        ("{% for c in citations %}\n{% endif %}", "Line 2: Encountered unknown tag 'endif'"),
    ],
)
def test_syntax_errors_report_the_line(source, expected):
    problems = validate_template(source)

    assert len(problems) == 1
    assert problems[0].startswith(expected), problems


def test_a_filter_used_on_the_wrong_kind_of_value_is_caught_with_the_sample_data():
    problems = validate_template("{{ market.end_date|round }}")

    assert len(problems) == 1
    assert problems[0].startswith("Line 1: The template could not be rendered")
    assert problems[0].endswith("(tried with the sample data).")


def test_too_long_a_source_is_refused():
    source = "x" * (MAX_SOURCE_CHARS + 1)

    assert validate_template(source) == [
        f"The template is too long ({MAX_SOURCE_CHARS + 1:,} characters; at most {MAX_SOURCE_CHARS:,})."
    ]


def test_template_problem_is_a_value_error_with_its_messages():
    problem = TemplateProblem(["Line 1: one.", "Line 2: two."])

    assert isinstance(problem, ValueError)
    assert problem.messages == ["Line 1: one.", "Line 2: two."]
    assert str(problem) == "Line 1: one.; Line 2: two."


# --- refused when rendered --------------------------------------------------------------------------


def test_missing_data_is_an_error_not_a_blank():
    data = context()
    del data["case"]

    with pytest.raises(TemplateProblem) as caught:
        render_template("Hi\n{{ case.reference }}", data)
    assert caught.value.messages == ["Line 2: Missing data: 'case' is undefined"]

    with pytest.raises(TemplateProblem) as caught:
        render_template("{{ account.tier }}", context(account={"display_name": "Dana"}))
    assert caught.value.messages == ["Line 1: Missing data: no value for the field 'tier'"]


def test_output_is_capped():
    long_citations = [{"excerpt": "x" * 60_000, "source": "Rulebook"} for _ in range(2)]
    source = "{% for c in citations %}{{ c.excerpt }}{% endfor %}"

    with pytest.raises(TemplateProblem) as caught:
        render_template(source, context(citations=long_citations))
    assert caught.value.messages == [
        f"The rendered text would be longer than {MAX_OUTPUT_CHARS:,} characters."
    ]


@pytest.mark.parametrize(
    "source",
    [
        '{{ citations|join("' + "-" * 2_000 + '", attribute="source") }}',
        '{{ case.claim|replace("", "' + "y" * 500 + '")|replace("", "' + "z" * 500 + '") }}',
    ],
)
def test_filters_that_could_blow_up_a_value_are_capped_before_they_do(source):
    data = context(
        citations=[{"excerpt": "e", "source": "s"}] * 100,
        case={**example_context()["case"], "claim": "c" * 300},
    )

    with pytest.raises(TemplateProblem) as caught:
        render_template(source, data)
    assert "longer than" in caught.value.messages[0]


def test_render_refuses_a_context_that_is_not_plain():
    with pytest.raises(TypeError, match=r"account\.owner is a builtins\.object"):
        render_template(
            "{{ account.display_name }}", context(account={"display_name": "Dana", "owner": object()})
        )


# --- the sandbox itself, without the validation in front of it ---------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ account.email.upper() }}",
        "{{ account.email.__class__ }}",
        "{{ 'a' * 3 }}",
        "{{ -account.tier }}",
        "{{ account.items() }}",
    ],
)
def test_the_environment_refuses_calls_attributes_and_arithmetic(source):
    template = ENV.from_string(source)

    with pytest.raises(SecurityError):
        template.render(example_context())


def test_the_environment_has_no_globals_and_no_loader():
    assert ENV.globals == {}
    assert ENV.loader is None
    assert ENV.autoescape is False
    with pytest.raises(SecurityError, match="not safely callable"):
        ENV.from_string("{{ range(3) }}").render()
    with pytest.raises(TypeError, match="no loader"):
        ENV.from_string("{% include 'base.html' %}").render()


# --- plain_context ----------------------------------------------------------------------------------


def test_plain_context_copies_plain_values():
    class Status(str):
        pass

    source = {
        "reference": "DC-1",
        "amount_at_stake": Decimal("1E+3"),
        "status": Status("open"),
        "tags": ("a", 1),
    }
    plain = plain_context(case=source, citations=[{"excerpt": "e", "source": "s"}], flag=True, nothing=None)

    assert plain == {
        "case": {"reference": "DC-1", "amount_at_stake": "1000", "status": "open", "tags": ["a", 1]},
        "citations": [{"excerpt": "e", "source": "s"}],
        "flag": True,
        "nothing": None,
    }
    assert type(plain["case"]["status"]) is str
    assert plain["case"] is not source
    assert type(plain_context(venue=Venue.US)["venue"]) is str
    assert plain_context(amount=Decimal("12.50"))["amount"] == "12.50"


@pytest.mark.parametrize(
    ("parts", "where"),
    [
        ({"account": object()}, "account is a builtins.object"),
        ({"account": Tier(name="VIP")}, "account is a accounts.models.book.Tier"),
        ({"case": {"account": Tier(name="VIP")}}, "case.account is a accounts.models.book.Tier"),
        ({"citations": [{"excerpt": b"bytes"}]}, "citations[0].excerpt is a builtins.bytes"),
        ({"case": {"resolution_due": datetime.date(2025, 3, 1)}}, "case.resolution_due is a datetime.date"),
        ({"case": {"status": gettext_lazy("Open")}}, "case.status is a"),
        ({"account": {1: "x"}}, "account has the key 1"),
        ({"account": {"_secret": "x"}}, "account has the key '_secret'"),
        ({"citations": [{}] * 1_000}, "citations has 1000 items"),
    ],
)
def test_plain_context_refuses_anything_else(parts, where):
    with pytest.raises(TypeError) as caught:
        plain_context(**parts)
    assert where in str(caught.value)

from playbooks.services import playbook_create, template_create

BODY = """# Escalation pathway

## Within 30 minutes
- [ ] Acknowledge the user
- [x] Page the on-call lead

| Tier | Target |
|------|--------|
| 1    | 30 min |
"""


def make_playbook(
    by, *, title="Escalation pathway", category="escalation", body=BODY, status="published", **kwargs
):
    return playbook_create(by=by, title=title, category=category, body=body, status=status, **kwargs)


def make_template(by, *, playbook=None, name="Resolution upheld", serves="market_resolution", **kwargs):
    kwargs.setdefault("subject", "About {{ case.reference }}")
    kwargs.setdefault(
        "body",
        "Hi {{ account.first_name }},\n\nWe decided: {{ decision.outcome }}.\n"
        "{% for citation in citations %}- “{{ citation.excerpt }}” ({{ citation.source }})\n{% endfor %}"
        "\n{{ specialist.name }}",
    )
    return template_create(
        by=by,
        name=name,
        playbook=playbook or make_playbook(by, title=f"Playbook for {name}"),
        serves=serves,
        **kwargs,
    )

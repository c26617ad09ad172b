from django import forms

from playbooks.contexts import context_sources
from playbooks.models import Playbook, ResponseTemplate
from portal.forms import SafeModelChoiceField, SpecialistChoiceField, specialists

BODY_HELP = (
    "Markdown: # headings, - lists, - [ ] task lists, | tables |, `code`, [links](https://…). Up to 200 KB."
)


class PlaybookForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.CharField(
        max_length=100, required=False, help_text="The web address; made from the title when left empty."
    )
    category = forms.ChoiceField(choices=Playbook.Category.choices)
    review_interval_days = forms.IntegerField(
        min_value=1, max_value=730, initial=90, label="Review every (days)"
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 22, "class": "mono"}), help_text=BODY_HELP)
    summary = forms.CharField(max_length=300, initial="First version", label="Change summary")


class PlaybookEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=Playbook.Category.choices)
    owner = SpecialistChoiceField(queryset=specialists())
    review_interval_days = forms.IntegerField(min_value=1, max_value=730, label="Review every (days)")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 26, "class": "mono"}), help_text=BODY_HELP)
    summary = forms.CharField(
        max_length=300, label="Change summary", help_text="What changed and why; kept in the history."
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    playbook = SafeModelChoiceField(
        queryset=Playbook.objects.exclude(status=Playbook.Status.ARCHIVED).order_by("title"),
        help_text="The standard this template applies.",
    )
    serves = forms.ChoiceField(choices=ResponseTemplate.Serves.choices, label="Used for")
    subject = forms.CharField(max_length=300, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}))
    is_active = forms.BooleanField(required=False, initial=True, label="Offer it on case and check-in pages")
    summary = forms.CharField(max_length=300, initial="First version", label="Change summary")
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1)


class PreviewForm(forms.Form):
    """One field per registered context source (an account, a case, a feedback item…): what a
    preview is filled from."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for source in context_sources():
            self.fields[source.key] = forms.CharField(
                max_length=200, required=False, label=source.label, help_text=source.help_text
            )

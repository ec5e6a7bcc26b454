"""Forms of the supervision pages. They check shape only; the services decide the rest."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import User
from taizhang.orgs.models import InspectionRound, Organisation
from taizhang.supervision.models import Bulletin, Meeting, Recommendation

TEXTAREA = forms.Textarea(attrs={"rows": 5})
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _organisations() -> Any:
    return Organisation.objects.filter(is_active=True).order_by("path")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; the service checks each one's content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class CaseNumbersField(forms.CharField):
    """Public case numbers separated by spaces, commas or new lines."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part for part in text.replace(",", " ").replace("，", " ").replace("、", " ").split() if part]


class RecommendationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    issuing_org = forms.ModelChoiceField(label=_("Issued by"), queryset=Organisation.objects.none())
    addressed_org = forms.ModelChoiceField(label=_("Addressed to"), queryset=Organisation.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Recommendation.Kind.choices)
    title = forms.CharField(label=_("Subject"), max_length=200,
                            help_text=_("Used in the document title: “About … (监察建议书)”."))
    problems = forms.CharField(label=_("Problems found"), widget=TEXTAREA)
    causes = forms.CharField(label=_("Causes"), widget=TEXTAREA, required=False)
    recommendations = forms.CharField(label=_("Recommendations"), widget=TEXTAREA)
    cases = CaseNumbersField(label=_("Linked cases"), required=False,
                             help_text=_("Case numbers, separated by spaces or commas."))
    inspection_round = forms.ModelChoiceField(label=_("Inspection round"), required=False,
                                              queryset=InspectionRound.objects.order_by("-starts_on"))

    def __init__(self, *args: Any, issuers: list[Organisation], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuing_org"].queryset = Organisation.objects.filter(pk__in=[o.pk for o in issuers])  # type: ignore[attr-defined]
        self.fields["addressed_org"].queryset = _organisations()  # type: ignore[attr-defined]
        if editing:
            del self.fields["issuing_org"]


class ReplyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reply = forms.CharField(label=_("Reply and measures taken"), widget=forms.Textarea(attrs={"rows": 8}))
    evidence = MultipleFileField(label=_("Evidence files"), required=False)


class EvaluationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Evaluation"), choices=Recommendation.Outcome.choices,
                                widget=forms.RadioSelect)
    evaluation = forms.CharField(label=_("Evaluation opinion"), widget=TEXTAREA)


class BulletinGenerateForm(forms.Form):
    issuing_org = forms.ModelChoiceField(label=_("Issued by"), queryset=Organisation.objects.none())
    period_start = forms.DateField(label=_("Period from"), widget=DATE)
    period_end = forms.DateField(label=_("Period to"), widget=DATE)
    units = forms.ModelMultipleChoiceField(label=_("Units covered"), queryset=Organisation.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("Leave blank for the generated title."))

    def __init__(self, *args: Any, issuers: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuing_org"].queryset = Organisation.objects.filter(pk__in=[o.pk for o in issuers])  # type: ignore[attr-defined]
        self.fields["units"].queryset = _organisations()  # type: ignore[attr-defined]


class BulletinEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    distribution = forms.ModelMultipleChoiceField(label=_("Distribution list"), queryset=Organisation.objects.none())

    def __init__(self, *args: Any, bulletin: Bulletin, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["distribution"].queryset = _organisations()  # type: ignore[attr-defined]
        for section in bulletin.sections:
            self.fields[f"section_{section['key']}"] = forms.CharField(
                label=section["heading"], required=False, initial=section["text"],
                widget=forms.Textarea(attrs={"rows": 6}))

    def section_texts(self) -> dict[str, str]:
        return {name.removeprefix("section_"): value for name, value in self.cleaned_data.items()
                if name.startswith("section_")}


class MeetingForm(forms.Form):
    convening_org = forms.ModelChoiceField(label=_("Convened by"), queryset=Organisation.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Meeting.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    location = forms.CharField(label=_("Place"), max_length=120, required=False)
    participant_orgs = forms.ModelMultipleChoiceField(label=_("Participating organisations"), required=False,
                                                      queryset=Organisation.objects.none())
    participants = forms.ModelMultipleChoiceField(label=_("Participants"), required=False,
                                                  queryset=User.objects.none())
    topics = forms.CharField(label=_("Topics"), widget=TEXTAREA)

    def __init__(self, *args: Any, issuers: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["convening_org"].queryset = Organisation.objects.filter(pk__in=[o.pk for o in issuers])  # type: ignore[attr-defined]
        self.fields["participant_orgs"].queryset = _organisations()  # type: ignore[attr-defined]
        self.fields["participants"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True, memberships__isnull=False).distinct().order_by("display_name"))


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 3}))
    assignee_org = forms.ModelChoiceField(label=_("To be carried out by"), queryset=Organisation.objects.none())
    due_on = forms.DateField(label=_("Due"), widget=DATE)
    cases = CaseNumbersField(label=_("Linked cases"), required=False,
                             help_text=_("Case numbers, separated by spaces or commas."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee_org"].queryset = _organisations()  # type: ignore[attr-defined]


class DecisionDoneForm(forms.Form):
    note = forms.CharField(label=_("How it was carried out"), widget=forms.Textarea(attrs={"rows": 3}))

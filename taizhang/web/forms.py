"""Forms of the workspace. An action form asks exactly the inputs of its workflow transition."""

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.cases.models import Case, FollowUp
from taizhang.cases.workflow import Transition, input_label

TEXTAREA_INPUTS = {"note", "reason", "goal", "summary", "institution_building", "opinion", "text",
                   "override_reason", "items"}
DATE_INPUTS = {"deadline", "requested_deadline", "review_date"}
YES_NO = [("true", _("Yes")), ("false", _("No"))]
MET_NOT_MET = [("true", _("Met")), ("false", _("Not met"))]
CHECKLIST_PREFIX = "checklist_"
INPUT_HELP = {
    "items": _("One measure per line."),
    "evidence": _("PDF, images, Office documents or text; several files may be chosen."),
    "into": _("The public number of the case that absorbs this one, e.g. CC-2024-0001."),
    "override_reason": _("Only a supervisor may fill this in, to close despite an unsatisfied answer."),
    "team": _("Colleagues who accepted the work with you; nobody from a handling unit."),
}
# Inputs of a follow-up that only the supervising side gives (an enterprise answers for itself, online).
STAFF_FOLLOWUP_INPUTS = {"enterprise": {"channel", "override_reason"}, "liaison": {"override_reason"}}


class DateInput(forms.DateInput):
    input_type = "date"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        if not data:
            return super().clean(data, initial) if self.required else []
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


def _org_choices(orgs: Any) -> list[tuple[str, str]]:
    return [(str(o.pk), ("　" * max(o.path.count("/") - 2, 0)) + o.name) for o in orgs]


class ActionForm(forms.Form):
    """Built from a `Transition`: one field per input, required as the table says."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, transition: Transition, orgs: Any = (), categories: Any = (),
                 checklist: Sequence[str] = (), team: Sequence[tuple[int, str]] = (), acting_role: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.checklist = list(checklist)
        self.omitted = STAFF_FOLLOWUP_INPUTS.get(acting_role, set()) if transition.action == "record_followup" \
            else set()
        org_choices = _org_choices(orgs)
        for spec in transition.inputs:
            if spec.name in self.omitted:
                continue
            if spec.name == "checklist":
                # One met / not met answer per item of the case's checklist (验收清单).
                for position, item in enumerate(self.checklist):
                    self.fields[f"{CHECKLIST_PREFIX}{position}"] = forms.ChoiceField(
                        label=item, choices=MET_NOT_MET, required=spec.required, widget=forms.RadioSelect)
                continue
            if spec.name == "team":
                self.fields["team"] = forms.TypedMultipleChoiceField(
                    choices=[(str(pk), name) for pk, name in team], coerce=int, required=False,
                    widget=forms.CheckboxSelectMultiple)
            else:
                self.fields[spec.name] = self._field(spec.name, spec.required, org_choices, categories)
            self.fields[spec.name].label = input_label(spec.name)
            if spec.name in INPUT_HELP:
                self.fields[spec.name].help_text = INPUT_HELP[spec.name]
        if acting_role == "enterprise" and "solved" in self.fields:
            solved = cast(forms.ChoiceField, self.fields["solved"])
            solved.choices = [c for c in FollowUp.Solved.choices if c[0] != FollowUp.Solved.UNREACHABLE]

    def _field(self, name: str, required: bool, org_choices: list[tuple[str, str]], categories: Any) -> forms.Field:
        blank = [("", "—")]
        if name in ("responsible_org", "lead_org"):
            return forms.ChoiceField(choices=blank + org_choices, required=required)
        if name == "co_orgs":
            return forms.MultipleChoiceField(choices=org_choices, required=required,
                                             widget=forms.SelectMultiple(attrs={"size": 6}))
        if name == "mode":
            return forms.ChoiceField(choices=blank + list(Case.Mode.choices), required=required)
        if name == "category":
            return forms.ChoiceField(choices=blank + [(str(c.pk), c.full_name) for c in categories],
                                     required=required)
        if name in DATE_INPUTS:
            return forms.DateField(required=required, widget=DateInput)
        if name == "evidence":
            return MultipleFileField(required=required)
        if name in ("granted", "held"):
            return forms.ChoiceField(choices=YES_NO, required=True, widget=forms.RadioSelect)
        if name == "solved":
            return forms.ChoiceField(choices=FollowUp.Solved.choices, required=True, widget=forms.RadioSelect)
        if name == "satisfaction":
            return forms.TypedChoiceField(choices=FollowUp.Satisfaction.choices, coerce=int, required=False,
                                          widget=forms.RadioSelect)
        if name == "channel":
            return forms.ChoiceField(choices=blank + [c for c in FollowUp.Channel.choices if c[0] != "portal"],
                                     required=False)
        if name in TEXTAREA_INPUTS:
            return forms.CharField(required=required, widget=forms.Textarea(attrs={"rows": 3}))
        return forms.CharField(required=required, max_length=200)

    def service_inputs(self) -> dict[str, Any]:
        """The cleaned inputs in the shape the service expects."""
        data: dict[str, Any] = {}
        for spec in self.transition.inputs:
            if spec.name in self.omitted:
                continue
            value = self.cleaned_data.get(spec.name)
            if spec.name == "items":
                value = [line.strip() for line in (value or "").splitlines() if line.strip()]
            elif spec.name == "checklist":
                answers = {item: self.cleaned_data.get(f"{CHECKLIST_PREFIX}{i}") for i, item in
                           enumerate(self.checklist)}
                value = {item: answer == "true" for item, answer in answers.items() if answer} or None
            elif spec.name == "co_orgs":
                value = [int(v) for v in value or []]
            if value in (None, "", []) and not spec.required:
                continue
            data[spec.name] = value
        return data


class FollowUpAnswerForm(forms.Form):
    """The enterprise's own answer to a follow-up (through a signed link)."""

    solved = forms.ChoiceField(label=_("Is the problem solved?"), widget=forms.RadioSelect,
                               choices=[c for c in FollowUp.Solved.choices if c[0] != FollowUp.Solved.UNREACHABLE])
    satisfaction = forms.TypedChoiceField(label=_("How satisfied are you with the rectification?"), coerce=int,
                                          choices=FollowUp.Satisfaction.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Anything you would like to add"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


SOURCE_CHANNELS = {
    "inspection": Case.Source.INSPECTION,
    "enterprise": Case.Source.ENTERPRISE,
    "liaison": Case.Source.LIAISON,
    "hotline": Case.Source.HOTLINE,
}


class RegistrationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description of the problem"), widget=forms.Textarea(attrs={"rows": 5}))
    found_on = forms.DateField(label=_("Found on"), required=False, widget=DateInput)
    category = forms.ChoiceField(label=_("Category"), required=False)
    inspection_round = forms.ChoiceField(label=_("Inspection round"), required=False)
    enterprises = forms.MultipleChoiceField(label=_("Enterprises concerned"), required=False,
                                            widget=forms.MultipleHiddenInput)
    reporter_name = forms.CharField(label=_("Reporter"), max_length=60, required=False)
    reporter_contact = forms.CharField(label=_("Reporter contact"), max_length=60, required=False)
    reporter_anonymous = forms.BooleanField(label=_("The reporter asked for anonymity"), required=False)
    hotline_ticket = forms.CharField(label=_("12345 ticket number"), max_length=40, required=False)
    internal_note = forms.CharField(label=_("Internal note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, channel: str, categories: Any = (), rounds: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "—")] + [
            (str(c.pk), c.full_name) for c in categories]
        cast(forms.ChoiceField, self.fields["inspection_round"]).choices = [("", "—")] + [
            (str(r.pk), r.name) for r in rounds]
        # Enterprise ids are checked against the user's scope by the view.
        posted = self.data.getlist("enterprises") if hasattr(self.data, "getlist") else []
        cast(forms.ChoiceField, self.fields["enterprises"]).choices = [(v, v) for v in posted]
        if channel == "inspection":
            self.fields["inspection_round"].required = True
            for name in ("reporter_name", "reporter_contact", "reporter_anonymous", "hotline_ticket"):
                del self.fields[name]
        elif channel == "hotline":
            del self.fields["inspection_round"]
            self.fields["hotline_ticket"].required = True
        else:
            del self.fields["inspection_round"]
            del self.fields["hotline_ticket"]
        if channel in ("enterprise", "liaison"):
            self.fields["enterprises"].required = True


class EnterpriseForm(forms.Form):
    name = forms.CharField(label=_("Enterprise name"), max_length=120)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=30)
    industry = forms.CharField(label=_("Industry"), max_length=60, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name of the filter"), max_length=60,
                           error_messages={"required": _("Give the filter a name.")})
    query = forms.CharField(required=False, widget=forms.HiddenInput)


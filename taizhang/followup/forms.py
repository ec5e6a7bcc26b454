"""Forms of the 回头看 pages: planning a campaign and recording one check."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import User
from taizhang.cases.models import Case
from taizhang.web.forms import YES_NO, DateInput, MultipleFileField


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    closed_from = forms.DateField(label=_("Closed from"), required=False, widget=DateInput)
    closed_to = forms.DateField(label=_("Closed until"), required=False, widget=DateInput)
    category = forms.ChoiceField(label=_("Category (with subcategories)"), required=False)
    unit = forms.ChoiceField(label=_("Responsible or handling unit (with subunits)"), required=False)
    inspection_round = forms.ChoiceField(label=_("Inspection round"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=[("", "—"), *Case.Source.choices])
    sample_size = forms.IntegerField(label=_("Random sample: number of cases"), required=False, min_value=1,
                                     max_value=1_000_000)
    sample_percent = forms.IntegerField(label=_("Random sample: percentage"), required=False, min_value=1,
                                        max_value=100)
    seed = forms.IntegerField(label=_("Sampling seed"), required=False, min_value=0, max_value=2**31 - 1,
                              help_text=_("Leave empty to draw one. The same filters and seed select the "
                                          "same cases."))
    checkers = forms.MultipleChoiceField(label=_("Checkers"), required=False, widget=forms.CheckboxSelectMultiple,
                                         help_text=_("Cases are shared out among them in turn."))
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)

    def __init__(self, *args: Any, categories: Any, units: Any, rounds: Any, checkers: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.objects: dict[str, dict[str, Any]] = {
            "category": {str(c.pk): c for c in categories}, "unit": {str(o.pk): o for o in units},
            "inspection_round": {str(r.pk): r for r in rounds}, "checkers": {str(u.pk): u for u in checkers}}
        category_field: Any = self.fields["category"]
        category_field.choices = blank + [(k, c.full_name) for k, c in self.objects["category"].items()]
        unit_field: Any = self.fields["unit"]
        unit_field.choices = blank + [(k, ("　" * max(o.path.count("/") - 2, 0)) + o.name)
                                      for k, o in self.objects["unit"].items()]
        round_field: Any = self.fields["inspection_round"]
        round_field.choices = blank + [(k, r.name) for k, r in self.objects["inspection_round"].items()]
        checker_field: Any = self.fields["checkers"]
        checker_field.choices = [(k, str(u)) for k, u in self.objects["checkers"].items()]

    def criteria(self) -> dict[str, Any]:
        """The cleaned data as the services take it (objects instead of ids)."""
        data = dict(self.cleaned_data)
        for name in ("category", "unit", "inspection_round"):
            data[name] = self.objects[name].get(data.get(name) or "")
        checkers: list[User] = [self.objects["checkers"][k] for k in data.get("checkers") or []]
        data["checkers"] = checkers
        data["source"] = data.get("source") or ""
        return data


class CheckForm(forms.Form):
    held = forms.ChoiceField(label=_("Has the fix held?"), choices=YES_NO, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=5000)
    evidence = MultipleFileField(label=_("Evidence"), required=False,
                                 help_text=_("PDF, images, Office documents or text; several files may be chosen."))

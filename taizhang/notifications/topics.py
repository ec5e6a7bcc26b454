"""The events people are told about: a label for the inbox and the preferences page, and whether they
arrive by e-mail unless the user chose otherwise (escalations do; the rest stay in the inbox)."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Topic:
    name: str
    label: Promise
    email_by_default: bool = False


TOPICS: Mapping[str, Topic] = {
    t.name: t
    for t in [
        Topic("case.created", _("A new case was registered")),
        Topic("case.handover_proposed", _("A handover awaits approval")),
        Topic("case.handover_rejected", _("A proposed handover was rejected")),
        Topic("case.handed_over", _("A case was handed over to your unit")),
        Topic("case.declined", _("A unit returned a handover")),
        Topic("case.signed_for", _("A unit signed for a case")),
        Topic("case.extension_requested", _("An extension was requested")),
        Topic("case.extension_decided", _("An extension request was decided")),
        Topic("case.submitted_for_acceptance", _("A case was submitted for acceptance")),
        Topic("case.returned_for_rework", _("A case was returned for rework")),
        Topic("case.accepted", _("A case passed acceptance")),
        Topic("case.closed", _("A case was closed")),
        Topic("case.reminder", _("A deadline is near")),
        Topic("case.overdue", _("A deadline has passed")),
        Topic("case.escalated", _("A case was escalated to the leadership"), email_by_default=True),
        Topic("supervision_order.issued", _("A supervision order was issued"), email_by_default=True),
        Topic("supervision_order.overdue", _("A supervision order is unanswered"), email_by_default=True),
        Topic("supervision_order.replied", _("A supervision order was answered")),
    ]
}


def label(topic: str) -> str:
    known = TOPICS.get(topic)
    return str(known.label) if known else topic

"""The case page's official documents card and the 督办 panel's download links."""

from typing import Any

from django import template

from taizhang.cases import policies
from taizhang.core.errors import NotFound
from taizhang.documents import selectors

register = template.Library()


@register.inclusion_tag("documents/case_documents.html", takes_context=True)
def case_documents(context: dict[str, Any], number: str) -> dict[str, Any]:
    try:
        documents = selectors.case_documents(context["request"].user, number)
    except NotFound:
        documents = []
    return {"number": number, "documents": documents}


@register.simple_tag(takes_context=True)
def sees_documents(context: dict[str, Any]) -> bool:
    """Whether the user may download a visible case's official documents (enterprises may not)."""
    return policies.sees_internal_notes(context["request"].user)

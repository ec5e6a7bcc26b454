"""The acceptance checklist (验收清单) of a category: its own items, else its nearest ancestor's, else the
default set (items without a category). Reference data, the same for every user."""

from django.db.models import Q

from taizhang.cases.models import AcceptanceChecklistItem, Category

# Used only when no default item is configured at all (the migration seeds the same set).
FALLBACK_ITEMS = ("现场核查", "佐证材料齐全", "整改措施落实到位", "企业确认")


def checklist_labels(category: Category | None) -> list[str]:
    """The labels the acceptance of a case in `category` must answer, in order."""
    chain = list(reversed(category.ancestor_ids())) if category is not None else []
    rows = (AcceptanceChecklistItem.objects.filter(is_active=True)
            .filter(Q(category_id__in=chain) | Q(category__isnull=True))
            .order_by("position", "pk").values_list("category_id", "label"))
    by_category: dict[int | None, list[str]] = {}
    for category_id, label in rows:
        by_category.setdefault(category_id, []).append(label)
    for nearest in [*chain, None]:
        if by_category.get(nearest):
            return by_category[nearest]
    return list(FALLBACK_ITEMS)

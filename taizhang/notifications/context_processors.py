from django.http import HttpRequest

from taizhang.notifications import selectors


def inbox(request: HttpRequest) -> dict[str, int | None]:
    """`inbox_unread_count` for the page header: None for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread_count": None}
    return {"inbox_unread_count": selectors.unread_count(user)}

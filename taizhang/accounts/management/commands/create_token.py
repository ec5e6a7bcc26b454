import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from taizhang.api.tokens import create_token
from taizhang.core import clock
from taizhang.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (it is stored hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. 12345 hotline bridge")
        parser.add_argument("--expires-days", type=int, default=None, help="expire after this many days")

    def handle(self, *args: Any, username: str, name: str, expires_days: int | None, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user named %(username)s.") % {"username": username})
        if expires_days is not None and not 1 <= expires_days <= 3650:
            raise CommandError(_("--expires-days takes 1 to 3650 days."))
        expires_at = clock.now() + dt.timedelta(days=expires_days) if expires_days else None
        try:
            _token, raw = create_token(user=user, name=name, expires_at=expires_at)
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(raw)

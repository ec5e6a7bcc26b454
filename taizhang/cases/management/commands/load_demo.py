from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from taizhang.cases.demo import load_demo


class Command(BaseCommand):
    help = _("Load the demo story (DESIGN.md §7) and a synthetic district. Safe to run again.")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = load_demo()
        story = _("loaded") if summary.story_created else _("already present")
        self.stdout.write(_("Demo story %(number)s: %(status)s.") % {"number": summary.story_number, "status": story})
        self.stdout.write(_("Synthetic cases created: %(n)d. Cases in total: %(total)d.")
                          % {"n": summary.synthetic_created, "total": summary.total_cases})
        self.stdout.write(_("Demo logins use the password “%(password)s”.") % {"password": summary.password})

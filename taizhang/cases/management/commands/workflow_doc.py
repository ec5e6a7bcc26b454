from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from taizhang.cases import workflow


class Command(BaseCommand):
    help = "Write docs/workflow.md (the lifecycle table and diagram) from cases/workflow.py."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stdout", action="store_true", help="print instead of writing the file")

    def handle(self, *args: Any, **options: Any) -> None:
        text = workflow.markdown()
        if options["stdout"]:
            self.stdout.write(text, ending="")
            return
        path = Path(settings.BASE_DIR) / "docs" / "workflow.md"
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")

"""The `taizhang` console script: Django's management commands with the project's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # Accept dashed spellings of the project's commands: `taizhang verify-audit` == `verify_audit`.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as error:  # a setting to fix: the message says which, a traceback adds nothing
        sys.exit(f"taizhang: {error}")


if __name__ == "__main__":
    main()

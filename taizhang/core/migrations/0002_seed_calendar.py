"""Seed the working-day calendar from chinese-calendar so that `migrate` alone gives working deadlines.

Only missing dates are inserted, so re-running (or rolling back and forward) never changes admin edits.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from taizhang.core.workdays import seed_calendar

    seed_calendar(model=apps.get_model("core", "CalendarDay"))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop, elidable=False),
    ]

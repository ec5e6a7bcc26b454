"""Seed the default time limits (any category) with their published basis. Existing rows are left
alone; rolling back removes only the default rows an admin has not changed."""

from django.db import migrations


def seed(apps, schema_editor):
    from taizhang.sla.deadlines import seed_default_time_limits

    seed_default_time_limits(model=apps.get_model("sla", "TimeLimit"))


def unseed(apps, schema_editor):
    from taizhang.sla.deadlines import DEFAULT_BASIS, DEFAULT_LIMITS

    TimeLimit = apps.get_model("sla", "TimeLimit")
    for (clock, mode), limit in DEFAULT_LIMITS.items():
        TimeLimit.objects.filter(clock=clock.value, category=None, mode=mode, amount=limit.amount,
                                 unit=str(limit.unit), basis=DEFAULT_BASIS[(clock, mode)]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("sla", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, unseed, elidable=False),
    ]

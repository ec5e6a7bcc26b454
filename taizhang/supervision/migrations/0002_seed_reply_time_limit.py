from django.db import migrations


def seed(apps, schema_editor):
    """The default reply time limit (services.DEFAULT_REPLY_LIMIT), editable by administrators."""
    ReplyTimeLimit = apps.get_model("supervision", "ReplyTimeLimit")
    ReplyTimeLimit.objects.get_or_create(kind="", defaults={
        "amount": 30, "unit": "days", "basis": "被建议单位应在收到监察建议书之日起30日内书面回复整改情况"})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_recommendations_bulletins_meetings")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop, elidable=False)]

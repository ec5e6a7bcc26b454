"""A scheduler process for the parallel test (spawned: imports Django itself)."""

import os


def scheduler_worker(url, instants, barrier, results):
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    import django

    django.setup()
    from django.db import connection

    from taizhang.notifications import scheduler

    jobs = [scheduler.Job("race.a", ("taizhang.core.tasks.deliver_outbox",), 60),
            scheduler.Job("race.b", ("taizhang.notifications.tasks.send_notification_emails",), 60)]
    try:
        for now in instants:
            barrier.wait(timeout=60)
            for claim in scheduler.tick(now, jobs):
                results.put((claim.job, claim.slot.isoformat(), os.getpid()))
    finally:
        results.put(("done", "", os.getpid()))
        connection.close()

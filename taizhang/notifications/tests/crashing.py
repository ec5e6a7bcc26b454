"""A delivery worker that hangs after claiming a message, for the kill test (spawned process)."""

import os
import time


def hanging_worker(url, hang_on_topic, events):
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    import django

    django.setup()
    from taizhang.core import outbox

    def hang(message):
        if message.topic == hang_on_topic:
            # The notifications of this message are written (not committed) and its row is locked.
            events.put(("claimed", message.pk))
            time.sleep(300)  # killed here

    outbox.register_handler("", hang)
    events.put(("started", os.getpid()))
    outbox.deliver_pending()
    events.put(("finished", None))

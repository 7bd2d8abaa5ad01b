"""Building and sending digests, exactly once per (subscriber, digest date).

The run itself lives in `sending`; `builder` selects each subscriber's papers
from the window loaded by `window_papers`, `schedule` says who is due and what
they follow, and `compose` turns a digest into the mail.
"""

from paperwire.services.digests.builder import (  # noqa: F401
    DigestBuilder,
    run_search,
)
from paperwire.services.digests.compose import (  # noqa: F401
    compose_digest,
    digest_message_id,
    preview_digest,
    subscriber_links,
    unsubscribe_mailto,
)
from paperwire.services.digests.schedule import (  # noqa: F401
    due_subscriber_ids,
    last_digest_dates,
    shared_topic_needs,
)
from paperwire.services.digests.sending import (  # noqa: F401
    DigestRunFailed,
    SendReport,
    record_bounce,
    send_digests,
)
from paperwire.services.digests.window_papers import load_window_papers  # noqa: F401

__all__ = ["DigestBuilder", "DigestRunFailed", "SendReport", "send_digests", "preview_digest",
           "compose_digest"]

"""Every router the app serves, in the order they are mounted."""

from paperwire.web.routes import (
    accounts,
    admin_runs,
    api,
    community,
    feed_pages,
    feeds,
    follows,
    for_you,
    health,
    hf_collections,
    library,
    library_transfer,
    markdown,
    pages,
    search_pages,
    subscriptions,
)

ROUTERS = [
    health.router,
    feed_pages.router,  # the busiest pages first: fixed paths, nothing to shadow
    search_pages.router,
    api.router,
    markdown.router,  # /papers/{id}.md before the paper page's catch-all
    feeds.router,
    accounts.router,
    *community.ROUTERS,
    library.router,
    library_transfer.router,
    follows.router,
    for_you.router,
    hf_collections.router,
    subscriptions.router,
    admin_runs.router,
    pages.router,
]

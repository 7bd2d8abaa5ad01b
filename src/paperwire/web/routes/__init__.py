"""Every router the app serves, in the order they are mounted."""

from paperwire.web.routes import (
    accounts,
    api,
    community,
    feeds,
    health,
    pages,
    search_pages,
    subscriptions,
)

ROUTERS = [
    health.router,
    api.router,
    feeds.router,
    search_pages.router,
    accounts.router,
    *community.ROUTERS,
    subscriptions.router,
    pages.router,
]

"""Upvotes, paper submission, comments, authorship claims, moderation, organizations
and profiles. HTML forms redirect after POST; `/api/...` twins answer JSON.

ROUTERS keeps the routes in the order they have always been mounted (the OpenAPI
listing follows it).
"""

from paperwire.web.routes.community import (
    claims,
    comments,
    moderation,
    organizations,
    profiles,
    submissions,
    votes,
)

ROUTERS = [
    votes.router,
    submissions.router,
    comments.router,
    claims.router,
    moderation.router,
    organizations.router,
    profiles.router,
]

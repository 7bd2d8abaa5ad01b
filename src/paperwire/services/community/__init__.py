"""Community: upvotes, threaded comments, authorship claims, organizations, moderation.

Vote and comment writes change `papers.local_upvotes` / `papers.local_comments`
in the same transaction, so the card counts never drift from the rows.
"""

from paperwire.services.community.claims import (  # noqa: F401
    ClaimView,
    approved_claims_for_author,
    claims_of,
    claims_on_paper,
    decide_claim,
    pending_claims,
    request_claim,
)
from paperwire.services.community.comments import (  # noqa: F401
    CommentView,
    add_comment,
    comment_thread,
    delete_comment,
    edit_comment,
    get_comment,
)
from paperwire.services.community.common import (  # noqa: F401
    CommunityError,
    require,
    require_active,
)
from paperwire.services.community.moderation import (  # noqa: F401
    flagged_papers,
    set_paper_flag,
    suspend_user,
)
from paperwire.services.community.organizations import (  # noqa: F401
    OrganizationView,
    add_member,
    create_organization,
    get_organization,
    link_paper,
    organizations_of,
)
from paperwire.services.community.profiles import (  # noqa: F401
    Profile,
    profile,
)
from paperwire.services.community.votes import (  # noqa: F401
    VoteState,
    set_vote,
    vote_count,
    voted_ids,
)

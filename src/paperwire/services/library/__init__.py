"""The personal library: saved papers with notes, tags and marks; collections; follows;
import and export; the For-you feed's inputs.

Each function acts for one user and touches only that user's rows; someone else's
private things answer "not found".
"""

from paperwire.services.library.browse import (  # noqa: F401
    LibraryPage,
    LibraryQuery,
    candidate_ids,
    library_page,
)
from paperwire.services.library.collections import (  # noqa: F401
    CollectionItem,
    CollectionView,
    add_to_collection,
    collection_items_of,
    collection_paper_ids,
    create_collection,
    delete_collection,
    find_collection_by_name,
    get_collection,
    id_from_slug,
    list_collections,
    remove_from_collection,
    update_collection,
    update_collection_item,
)
from paperwire.services.library.follows import (  # noqa: F401, E402
    KINDS,
    FollowView,
    find_follow,
    follow,
    list_follows,
    unfollow,
)
from paperwire.services.library.for_you import (  # noqa: F401, E402
    ForYouFeed,
    add_my_papers,
    for_you_feed,
    get_feed_settings,
    new_feed_token,
    parse_since,
    rank_candidates,
    revoke_feed_token,
    set_keywords,
    user_for_feed_token,
)
from paperwire.services.library.saved import (  # noqa: F401
    LibraryItem,
    PaperState,
    library_item,
    paper_state,
    remove_paper,
    save_paper,
    save_papers,
    saved_ids,
    set_mark,
    set_note,
    set_tags,
    user_tags,
)

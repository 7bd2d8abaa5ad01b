"""Accounts: sign-up, password and magic-link login, sessions, one-time tokens, API tokens.

Every secret handed to a user (session cookie, API token, mail-link token) is a
random string stored only as its SHA-256 hash. Each function owns its
transaction. Login failures, password resets and sign-ups answer the same way
whether or not the account exists.
"""

from paperwire.services.accounts.api_tokens import (  # noqa: F401
    TOKEN_PREFIX,
    ApiToken,
    create_api_token,
    list_api_tokens,
    revoke_all_api_tokens,
    revoke_api_token,
    user_for_api_token,
)
from paperwire.services.accounts.common import (  # noqa: F401
    AccountError,
    LockedOut,
    User,
    secret_hash,
)
from paperwire.services.accounts.login import (  # noqa: F401
    LOGIN_FAILED,
    authenticate,
    lockout_key,
    login_lockout_remaining,
)
from paperwire.services.accounts.mails import AccountMail  # noqa: F401
from paperwire.services.accounts.one_time_tokens import (  # noqa: F401
    INVALID_LINK,
    MAGIC_LINK,
    RESET_PASSWORD,
    VERIFY_EMAIL,
    consume_one_time_token,
    issue_one_time_token,
    peek_one_time_token,
    reset_password,
    use_magic_link,
    verify_email,
)
from paperwire.services.accounts.sessions import (  # noqa: F401
    create_session,
    end_session,
    user_for_session,
)
from paperwire.services.accounts.signup import SignUpAnswer, sign_up  # noqa: F401
from paperwire.services.accounts.users import (  # noqa: F401
    EmailTaken,
    create_user,
    find_user,
    get_user,
    list_users,
    set_role,
    set_suspended,
)

"""The sign-up form's service: the same answer, and the same work, whether or not the
address already has an account.

- A new address: the account is created and a confirmation mail is queued.
- An address that has an account: nothing is created, and its owner gets a notice
  mail ("someone tried to sign up with your address") through the same queue.
Both paths hash the password and queue one mail (through the per-recipient and per-IP
mail throttle), and the caller shows the same page for both.

A taken *username* is still reported: usernames are public (profile pages, comments),
so the answer tells nothing that a visit to /users/NAME would not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperwire.services.accounts.users import EmailTaken, create_user

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from paperwire.services.accounts.mails import AccountMail


@dataclass(frozen=True, slots=True)
class SignUpAnswer:
    """What the form shows: only what the visitor typed, never what is stored."""

    username: str
    email: str


def sign_up(engine: Engine, mail: AccountMail, *, username: str, email: str, password: str,
            ip: str = "") -> SignUpAnswer:
    """Sign up; raises AccountError for a malformed field or a taken username only."""
    answer = SignUpAnswer(username.strip(), email.strip())
    try:
        user = create_user(engine, username=username, email=email, password=password)
    except EmailTaken:
        mail.send_signup_notice(answer.email, ip)
        return answer
    mail.send_verification(user, ip)
    return answer

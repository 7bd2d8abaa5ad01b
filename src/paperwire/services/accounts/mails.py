"""The account mails: e-mail confirmation, magic login link, password reset."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from paperwire.domain import account_rules as rules
from paperwire.services.accounts.common import User
from paperwire.services.accounts.one_time_tokens import (
    MAGIC_LINK,
    RESET_PASSWORD,
    VERIFY_EMAIL,
    issue_one_time_token,
)
from paperwire.services.accounts.users import one_user
from paperwire.store.accounts_tables import users

if TYPE_CHECKING:
    from paperwire.config import Settings
    from paperwire.mail.transport import Mailer

log = logging.getLogger(__name__)


class AccountMail:
    """Sends verification, magic-link and reset mails through the Mailer (SMTP or outbox)."""

    def __init__(self, engine: Engine, settings: Settings, mailer: Mailer) -> None:
        self.engine = engine
        self.settings = settings
        self.mailer = mailer

    def _send(self, user: User, subject: str, text: str) -> bool:
        from paperwire.mail.message import build_message
        from paperwire.mail.transport import MailError

        try:
            message = build_message(
                sender=self.settings.mail_from, to=user.email, subject=subject, text=text
            )
            self.mailer.send(message)
        except (MailError, ValueError) as exc:
            log.warning("could not send %r to user %s: %s", subject, user.id, exc)
            return False
        return True

    def _link(self, path: str, raw: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}?token={raw}"

    def send_verification(self, user: User) -> bool:
        raw = issue_one_time_token(self.engine, self.settings, user.id, VERIFY_EMAIL)
        return self._send(
            user,
            f"Confirm your email address for {self.settings.site_name}",
            f"Hello {user.username},\n\nconfirm your email address by opening this link:\n\n"
            f"{self._link('/verify-email', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not sign up, ignore this mail.\n",
        )

    def send_magic_link(self, email: str) -> None:
        """Mail a login link if the address has an account; silent otherwise."""
        user = self._by_email(email)
        if user is None or user.suspended:
            return
        raw = issue_one_time_token(self.engine, self.settings, user.id, MAGIC_LINK)
        self._send(
            user,
            f"Your {self.settings.site_name} login link",
            f"Hello {user.username},\n\nlog in by opening this link:\n\n"
            f"{self._link('/login/magic', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not ask for it, ignore this mail.\n",
        )

    def send_password_reset(self, email: str) -> None:
        """Mail a reset link if the address has an account; silent otherwise."""
        user = self._by_email(email)
        if user is None:
            return
        raw = issue_one_time_token(self.engine, self.settings, user.id, RESET_PASSWORD)
        self._send(
            user,
            f"Reset your {self.settings.site_name} password",
            f"Hello {user.username},\n\nchoose a new password here:\n\n"
            f"{self._link('/reset-password', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not ask for it, ignore this mail; your password stays as it is.\n",
        )

    def _by_email(self, email: str) -> User | None:
        if rules.email_problem(email.strip()):
            return None
        return one_user(self.engine, users.c.email_key == rules.email_key(email))

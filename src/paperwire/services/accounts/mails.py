"""The account mails: e-mail confirmation, magic login link, password reset, and the
notice to an account's owner that someone tried to sign up with its address.

Requests only queue them (`ACCOUNT_MAIL_QUEUE`, run by services.background): the
look-up of the address, the token and the SMTP conversation happen in the
background, so a request answers at once and takes as long whether or not the
address has an account or the mail server is slow.
"""

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
    from paperwire.services.background import JobQueue

log = logging.getLogger(__name__)


ACCOUNT_MAIL_QUEUE = "account-mail"
SIGNUP_NOTICE = "signup_notice"


class AccountMail:
    """Verification, magic-link and reset mails: queued by requests, delivered by
    `deliver` in the background through the Mailer (SMTP or outbox)."""

    def __init__(self, engine: Engine, settings: Settings, mailer: Mailer,
                 jobs: JobQueue) -> None:
        self.engine = engine
        self.settings = settings
        self.mailer = mailer
        self.jobs = jobs

    # -- what requests call: queue and return -------------------------------------------

    # Each is throttled per recipient and per IP (services/mail_throttle.py); over the
    # limit nothing is queued and the caller answers as usual.

    def send_verification(self, user: User, ip: str = "") -> None:
        if self._allowed(user.email, ip):
            self.jobs.enqueue(ACCOUNT_MAIL_QUEUE, {"kind": VERIFY_EMAIL, "user_id": user.id})

    def send_magic_link(self, email: str, ip: str = "") -> None:
        """Mail a login link if the address has an account; silent otherwise."""
        if self._allowed(email, ip):
            self.jobs.enqueue(ACCOUNT_MAIL_QUEUE, {"kind": MAGIC_LINK, "email": email[:320]})

    def send_password_reset(self, email: str, ip: str = "") -> None:
        """Mail a reset link if the address has an account; silent otherwise."""
        if self._allowed(email, ip):
            self.jobs.enqueue(ACCOUNT_MAIL_QUEUE,
                              {"kind": RESET_PASSWORD, "email": email[:320]})

    def send_signup_notice(self, email: str, ip: str = "") -> None:
        """Tell the owner of `email` that someone tried to sign up with it."""
        if self._allowed(email, ip):
            self.jobs.enqueue(ACCOUNT_MAIL_QUEUE, {"kind": SIGNUP_NOTICE, "email": email[:320]})

    def _allowed(self, email: str, ip: str) -> bool:
        from paperwire.services.mail_throttle import allow_mail

        return allow_mail(self.engine, self.settings, recipient=email[:320], ip=ip)

    # -- the background job ---------------------------------------------------------------

    def deliver(self, payload: dict) -> None:
        """Run one queued account mail (the job handler)."""
        kind = payload.get("kind")
        if kind == VERIFY_EMAIL:
            user = one_user(self.engine, users.c.id == payload["user_id"])
            if user is not None and not user.email_verified:
                self._verification(user)
        elif kind == MAGIC_LINK:
            user = self._by_email(payload["email"])
            if user is not None and not user.suspended:
                self._magic_link(user)
        elif kind == RESET_PASSWORD:
            user = self._by_email(payload["email"])
            if user is not None:
                self._password_reset(user)
        elif kind == SIGNUP_NOTICE:
            user = self._by_email(payload["email"])
            if user is not None:
                self._signup_notice(user)
        else:
            from paperwire.services.background import GiveUp

            raise GiveUp(f"unknown account mail {kind!r}")

    def _send(self, user: User, subject: str, text: str) -> None:
        from paperwire.mail.message import build_message
        from paperwire.mail.transport import PermanentMailError, TemporaryMailError
        from paperwire.services.background import GiveUp, RetryLater

        try:
            message = build_message(
                sender=self.settings.mail_from, to=user.email, subject=subject, text=text
            )
            self.mailer.send(message)
        except (PermanentMailError, ValueError) as exc:
            raise GiveUp(f"could not send {subject!r} to user {user.id}: {exc}") from None
        except TemporaryMailError as exc:
            raise RetryLater(f"could not send {subject!r} to user {user.id}: {exc}") from None

    def _link(self, path: str, raw: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}?token={raw}"

    def _verification(self, user: User) -> None:
        raw = issue_one_time_token(self.engine, self.settings, user.id, VERIFY_EMAIL)
        self._send(
            user,
            f"Confirm your email address for {self.settings.site_name}",
            f"Hello {user.username},\n\nconfirm your email address by opening this link:\n\n"
            f"{self._link('/verify-email', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not sign up, ignore this mail.\n",
        )

    def _magic_link(self, user: User) -> None:
        raw = issue_one_time_token(self.engine, self.settings, user.id, MAGIC_LINK)
        self._send(
            user,
            f"Your {self.settings.site_name} login link",
            f"Hello {user.username},\n\nlog in by opening this link:\n\n"
            f"{self._link('/login/magic', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not ask for it, ignore this mail.\n",
        )

    def _password_reset(self, user: User) -> None:
        raw = issue_one_time_token(self.engine, self.settings, user.id, RESET_PASSWORD)
        self._send(
            user,
            f"Reset your {self.settings.site_name} password",
            f"Hello {user.username},\n\nchoose a new password here:\n\n"
            f"{self._link('/reset-password', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not ask for it, ignore this mail; your password stays as it is.\n",
        )

    def _signup_notice(self, user: User) -> None:
        base = self.settings.base_url.rstrip("/")
        self._send(
            user,
            f"Someone tried to sign up for {self.settings.site_name} with your address",
            f"Hello {user.username},\n\nsomeone (perhaps you) tried to create a new "
            f"{self.settings.site_name} account with this email address, which already "
            "belongs to your account. No new account was made and nothing changed.\n\n"
            f"If it was you, log in here:\n\n{base}/login\n\n"
            f"or, if you forgot your password, reset it here:\n\n{base}/forgot-password\n\n"
            "If it was not you, ignore this mail.\n",
        )

    def _by_email(self, email: str) -> User | None:
        if rules.email_problem(email.strip()):
            return None
        return one_user(self.engine, users.c.email_key == rules.email_key(email))

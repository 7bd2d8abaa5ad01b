"""Subscribing by e-mail: double opt-in, settings by signed link, one-click unsubscribe.

Every change to a subscription reads and writes its row under the address's write lock
(`store.db.lock_for_write`, keyed by the email key), and a link is checked again under
that lock: a confirm, settings change or subscribe that races an unsubscribe never
undoes it, and two subscribes at once send one confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from paperwire.config import Settings
from paperwire.domain import signed_tokens
from paperwire.domain.digest_topics import Topic
from paperwire.domain.email_addresses import email_key, normalize_email
from paperwire.mail.digest_render import render_confirmation
from paperwire.mail.message import build_message
from paperwire.mail.transport import Mailer
from paperwire.services.background import JobQueue
from paperwire.store import subscribers as store
from paperwire.store.db import lock_for_write, utcnow
from paperwire.store.subscribers import Subscriber

FREQUENCIES = ("daily", "weekly")
MIN_PAPERS, MAX_PAPERS = 1, 50


class InvalidChoice(ValueError):
    """A form or command-line choice outside what is offered; the message says so."""


class UnknownSubscriber(LookupError):
    """The token was valid but its subscription is gone (removed, or the address changed)."""


@dataclass(frozen=True, slots=True)
class Choices:
    frequency: str = "daily"
    paper_count: int = 10
    weekdays_only: bool = True
    topics: tuple[Topic, ...] = ()

    def checked(self) -> Choices:
        if self.frequency not in FREQUENCIES:
            raise InvalidChoice("Frequency must be daily or weekly.")
        if not MIN_PAPERS <= self.paper_count <= MAX_PAPERS:
            raise InvalidChoice(
                f"The number of papers must be between {MIN_PAPERS} and {MAX_PAPERS}.")
        return self


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    subscriber: Subscriber
    outcome: str  # created | resent | already_confirmed | throttled


def link(settings: Settings, path: str, purpose: str, subscriber: Subscriber) -> str:
    token = signed_tokens.make_token(settings.secret_key, purpose, subscriber.id,
                                     subscriber.email_key, subscriber.token_version)
    return f"{settings.base_url.rstrip('/')}{path}{token}"


def confirm_link(settings: Settings, subscriber: Subscriber) -> str:
    return link(settings, "/subscribe/confirm/", signed_tokens.CONFIRM, subscriber)


def settings_link(settings: Settings, subscriber: Subscriber) -> str:
    return link(settings, "/subscribe/settings/", signed_tokens.SETTINGS, subscriber)


def unsubscribe_link(settings: Settings, subscriber: Subscriber) -> str:
    return link(settings, "/unsubscribe/", signed_tokens.UNSUBSCRIBE, subscriber)


CONFIRMATION_QUEUE = "subscription-mail"


def subscribe(
    engine: Engine,
    jobs: JobQueue,
    settings: Settings,
    raw_email: str,
    choices: Choices,
    *,
    user_id: int | None = None,
) -> SubscribeResult:
    """Start a double opt-in: store the choices and mail a confirmation link.

    A second request for the same address keeps one row: it updates the choices
    of an unconfirmed subscription and sends the confirmation again; a confirmed
    one gets a mail with its settings link instead. Raises InvalidEmail/InvalidChoice.
    """
    address = normalize_email(raw_email)
    key = email_key(address)
    choices = choices.checked()
    now = utcnow()
    with engine.begin() as conn:
        _lock(conn, key)
        existing = store.find_subscriber(conn, key)
        if existing is None:
            try:
                with conn.begin_nested():
                    sid = store.insert_subscriber(
                        conn, email=address, email_key=key, frequency=choices.frequency,
                        weekdays_only=choices.weekdays_only, paper_count=choices.paper_count,
                        topics=choices.topics, confirmed=False, user_id=user_id,
                    )
                outcome = "created"
            except IntegrityError:  # a concurrent request for the same address won
                existing = store.find_subscriber(conn, key)
                assert existing is not None
        if existing is not None:
            sid = existing.id
            active_confirmed = existing.is_confirmed and existing.status == "active"
            throttle = timedelta(seconds=settings.subscribe_resend_interval_s)
            if (existing.confirmation_sent_at is not None
                    and now - existing.confirmation_sent_at < throttle):
                return SubscribeResult(existing, "throttled")
            if active_confirmed:
                outcome = "already_confirmed"
            else:
                store.update_choices(conn, sid, frequency=choices.frequency,
                                     weekdays_only=choices.weekdays_only,
                                     paper_count=choices.paper_count, topics=choices.topics)
                # Coming back after unsubscribing or bouncing: confirm the address again.
                store.set_status(conn, sid, status="active", confirmed_at=None, bounce_count=0)
                outcome = "resent"
        store.set_status(conn, sid, confirmation_sent_at=now)
        subscriber = store.get_subscriber(conn, sid)
    assert subscriber is not None
    jobs.enqueue(CONFIRMATION_QUEUE, {"subscriber_id": sid,
                                      "already_confirmed": outcome == "already_confirmed"})
    return SubscribeResult(subscriber, outcome)


def deliver_confirmation(engine: Engine, mailer: Mailer, settings: Settings,
                         payload: dict) -> None:
    """The background job behind `subscribe`: mail the confirmation (or settings) link."""
    from paperwire.mail.transport import PermanentMailError
    from paperwire.services.background import GiveUp, RetryLater

    with engine.connect() as conn:
        subscriber = store.get_subscriber(conn, payload["subscriber_id"])
    if subscriber is None:
        return  # deleted meanwhile
    try:
        send_confirmation(mailer, settings, subscriber,
                          already_confirmed=payload["already_confirmed"])
    except Exception as exc:
        with engine.begin() as conn:  # not sent: let the next request try at once
            store.set_status(conn, subscriber.id, confirmation_sent_at=None)
        if isinstance(exc, PermanentMailError | ValueError):
            raise GiveUp(f"confirmation for subscriber {subscriber.id}: {exc}") from None
        raise RetryLater(f"confirmation for subscriber {subscriber.id}: {exc}") from None


def send_confirmation(mailer: Mailer, settings: Settings, subscriber: Subscriber, *,
                      already_confirmed: bool) -> None:
    subject, text, html = render_confirmation(
        site_name=settings.site_name, confirm_url=confirm_link(settings, subscriber),
        settings_url=settings_link(settings, subscriber), already_confirmed=already_confirmed,
        email=subscriber.email,
    )
    mailer.send(build_message(
        sender=settings.mail_from, to=subscriber.email, subject=subject, text=text, html=html,
        reply_to=settings.mail_reply_to or settings.mail_from,
    ))


def subscriber_for_token(engine: Engine, settings: Settings, purpose: str,
                         token: str, *, check_version: bool = True) -> Subscriber:
    """The subscriber a link is for; raises TokenError or UnknownSubscriber.

    A link made before the subscriber's token version was raised (an unsubscribe, or
    "log out these links") is refused as invalid.
    """
    data = signed_tokens.read_token(settings.secret_key, purpose, token)
    with engine.connect() as conn:
        return _checked(conn, data, check_version=check_version)


def _checked(conn: Connection, data: signed_tokens.SubscriberToken, *,
             check_version: bool = True) -> Subscriber:
    subscriber = store.get_subscriber(conn, data.subscriber_id)
    if subscriber is None or subscriber.email_key != data.email_key:
        raise UnknownSubscriber("This subscription no longer exists.")
    if check_version and data.version != subscriber.token_version:
        raise signed_tokens.TokenError("invalid")
    return subscriber


def _lock(conn: Connection, key: str) -> None:
    lock_for_write(conn, "subscriptions", [key])


def _locked_for_token(conn: Connection, settings: Settings, purpose: str, token: str, *,
                      check_version: bool = True) -> Subscriber:
    """Like subscriber_for_token, inside a write transaction: takes the address's lock
    first, so the checks hold until commit."""
    data = signed_tokens.read_token(settings.secret_key, purpose, token)
    _lock(conn, data.email_key)
    return _checked(conn, data, check_version=check_version)


def confirm(engine: Engine, settings: Settings, token: str) -> Subscriber:
    """Confirm the address (POST only). A confirmed subscriber is left as it is: an old
    confirm link never undoes an unsubscribe or a bounce stop (those need a new
    subscription, which mails a new link)."""
    with engine.begin() as conn:
        subscriber = _locked_for_token(conn, settings, signed_tokens.CONFIRM, token)
        if not subscriber.is_confirmed:
            store.set_status(conn, subscriber.id, confirmed_at=utcnow(), status="active",
                             bounce_count=0)
        updated = store.get_subscriber(conn, subscriber.id)
    assert updated is not None
    return updated


def revoke_links(engine: Engine, mailer: Mailer, settings: Settings, token: str) -> Subscriber:
    """"Log out these links": every link mailed so far stops working; a fresh settings
    link goes to the address."""
    with engine.begin() as conn:
        subscriber = _locked_for_token(conn, settings, signed_tokens.SETTINGS, token)
        store.bump_token_version(conn, subscriber.id)
        updated = store.get_subscriber(conn, subscriber.id)
    assert updated is not None
    send_confirmation(mailer, settings, updated, already_confirmed=True)
    return updated


def update_settings(engine: Engine, settings: Settings, token: str, choices: Choices) -> Subscriber:
    choices = choices.checked()
    with engine.begin() as conn:
        subscriber = _locked_for_token(conn, settings, signed_tokens.SETTINGS, token)
        store.update_choices(conn, subscriber.id, frequency=choices.frequency,
                             weekdays_only=choices.weekdays_only,
                             paper_count=choices.paper_count, topics=choices.topics)
        updated = store.get_subscriber(conn, subscriber.id)
    assert updated is not None
    return updated


def unsubscribe_target(engine: Engine, settings: Settings, token: str) -> Subscriber:
    """The subscriber of an unsubscribe link. Once unsubscribed, any of its (signed, unexpired)
    unsubscribe links still answers, showing that it is done; otherwise the link must be of
    the current token version."""
    subscriber = subscriber_for_token(engine, settings, signed_tokens.UNSUBSCRIBE, token,
                                      check_version=False)
    if subscriber.status == "unsubscribed":
        return subscriber
    data = signed_tokens.read_token(settings.secret_key, signed_tokens.UNSUBSCRIBE, token)
    if data.version != subscriber.token_version:
        raise signed_tokens.TokenError("invalid")
    return subscriber


def unsubscribe(engine: Engine, settings: Settings, token: str) -> Subscriber:
    """One-click unsubscribe (idempotent). It revokes every link mailed so far."""
    with engine.begin() as conn:
        subscriber = _locked_for_token(conn, settings, signed_tokens.UNSUBSCRIBE, token,
                                       check_version=False)
        if subscriber.status == "unsubscribed":
            return subscriber  # a second click of the same link: nothing left to do
        data = signed_tokens.read_token(settings.secret_key, signed_tokens.UNSUBSCRIBE, token)
        if data.version != subscriber.token_version:
            raise signed_tokens.TokenError("invalid")
        store.set_status(conn, subscriber.id, status="unsubscribed")
        store.bump_token_version(conn, subscriber.id)
        updated = store.get_subscriber(conn, subscriber.id)
    assert updated is not None
    return updated


def add_subscriber(engine: Engine, raw_email: str, choices: Choices, *,
                   confirmed: bool) -> tuple[Subscriber, bool]:
    """Admin import: create or update without mail; returns (subscriber, created)."""
    address = normalize_email(raw_email)
    key = email_key(address)
    choices = choices.checked()
    with engine.begin() as conn:
        _lock(conn, key)
        existing = store.find_subscriber(conn, key)
        if existing is None:
            sid = store.insert_subscriber(
                conn, email=address, email_key=key, frequency=choices.frequency,
                weekdays_only=choices.weekdays_only, paper_count=choices.paper_count,
                topics=choices.topics, confirmed=confirmed,
            )
            created = True
        else:
            sid = existing.id
            store.update_choices(conn, sid, frequency=choices.frequency,
                                 weekdays_only=choices.weekdays_only,
                                 paper_count=choices.paper_count, topics=choices.topics)
            if confirmed and not existing.is_confirmed:
                store.set_status(conn, sid, confirmed_at=utcnow(), status="active")
            created = False
        subscriber = store.get_subscriber(conn, sid)
    assert subscriber is not None
    return subscriber, created


def remove_subscriber(engine: Engine, raw_email: str) -> bool:
    key = email_key(raw_email)
    with engine.begin() as conn:
        _lock(conn, key)
        existing = store.find_subscriber(conn, key)
        if existing is None:
            return False
        store.delete_subscriber(conn, existing.id)
    return True


def list_all(engine: Engine, status: str | None = None) -> Sequence[Subscriber]:
    with engine.connect() as conn:
        return store.list_subscribers(conn, status=status)

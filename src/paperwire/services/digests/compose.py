"""Turning a subscriber's digest into a mail (links, Message-ID, headers); previews."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.domain import signed_tokens
from paperwire.domain.digest_selection import Digest
from paperwire.mail.digest_render import MailLinks, render_digest
from paperwire.mail.message import build_message
from paperwire.services.digests.builder import DigestBuilder
from paperwire.services.digests.schedule import last_digest_dates
from paperwire.store.deliveries import already_sent
from paperwire.store.subscribers import Subscriber

if TYPE_CHECKING:
    from paperwire.ports import PaperSearch


def subscriber_links(settings: Settings, subscriber: Subscriber) -> MailLinks:
    base = settings.base_url.rstrip("/")
    secret = settings.secret_key
    return MailLinks(
        site=base + "/",
        settings=f"{base}/subscribe/settings/"
        + signed_tokens.make_token(secret, signed_tokens.SETTINGS, subscriber.id,
                                   subscriber.email_key, subscriber.token_version),
        unsubscribe=f"{base}/unsubscribe/"
        + signed_tokens.make_token(secret, signed_tokens.UNSUBSCRIBE, subscriber.id,
                                   subscriber.email_key, subscriber.token_version),
    )


def unsubscribe_mailto(settings: Settings, subscriber: Subscriber) -> str:
    _, sender = parseaddr(settings.mail_reply_to or settings.mail_from)
    return f"mailto:{sender}?subject=unsubscribe%20{subscriber.id}"


def digest_message_id(settings: Settings, subscriber_id: int, digest_date: date) -> str:
    _, sender = parseaddr(settings.mail_from)
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<digest.{digest_date:%Y%m%d}.{subscriber_id}@{domain}>"


def compose_digest(settings: Settings, subscriber: Subscriber, digest: Digest,
                   *, now: datetime | None = None,
                   fragments: dict[tuple[str, str | None, str], str] | None = None,
                   ) -> EmailMessage:
    links = subscriber_links(settings, subscriber)
    subject, text, html = render_digest(site_name=settings.site_name, base_url=settings.base_url,
                                        digest=digest, links=links, email=subscriber.email,
                                        fragments=fragments)
    return build_message(
        sender=settings.mail_from, to=subscriber.email, subject=subject, text=text, html=html,
        reply_to=settings.mail_reply_to or settings.mail_from,
        message_id=digest_message_id(settings, subscriber.id, digest.digest_date),
        date=now or datetime.now(UTC),
        unsubscribe_url=links.unsubscribe,
        unsubscribe_mailto=unsubscribe_mailto(settings, subscriber),
    )


def preview_digest(engine: Engine, settings: Settings, subscriber: Subscriber,
                   digest_date: date, *,
                   search: PaperSearch | None = None) -> tuple[Digest, EmailMessage]:
    """The digest this subscriber would get for `digest_date` (nothing is recorded)."""
    builder = DigestBuilder(engine, digest_date, search=search)
    with engine.connect() as conn:
        sent_ids = already_sent(conn, [subscriber.id])[subscriber.id]
    last = last_digest_dates(engine, [subscriber.id], digest_date).get(subscriber.id)
    digest = builder.build(subscriber, sent_ids, last)
    return digest, compose_digest(settings, subscriber, digest)

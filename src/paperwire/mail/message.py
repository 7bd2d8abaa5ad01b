"""Building outgoing mails: multipart text + HTML with the headers every mail needs.

Every header value is checked for CR/LF before it is set, so no field (a
subscriber's topic, a display name) can inject headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache


class HeaderInjection(ValueError):
    """A header value contained a line break or NUL."""


def safe_header(name: str, value: str) -> str:
    """Return `value` if it is safe as a header value, else raise HeaderInjection."""
    if any(ch in value for ch in "\r\n\x00"):
        raise HeaderInjection(f"the {name} header cannot contain line breaks")
    return value


def domain_of(address: str) -> str:
    _, addr = parseaddr(address)
    return addr.rpartition("@")[2] or "localhost"


def new_message_id(sender: str, *, key: str | None = None) -> str:
    """A Message-ID on the sender's domain; `key` (e.g. 'digest.12.2025-06-16') makes it stable."""
    domain = domain_of(sender)
    if key:
        return f"<{safe_header('Message-ID', key)}@{domain}>"
    return make_msgid(domain=domain)


@lru_cache(maxsize=256)
def _parsed_header(name: str, value: str):
    """A parsed header object for values shared by many mails (From, Reply-To):
    parsed once, then assigned as is (the policy accepts header objects)."""
    return default_policy.header_factory(name, safe_header(name, value))


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    date: datetime | None = None,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative mail (text first, then HTML) with checked headers.

    With `unsubscribe_url`, adds List-Unsubscribe (https + mailto) and
    List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).
    """
    msg = EmailMessage(policy=default_policy)
    msg["From"] = _parsed_header("From", sender)
    msg["To"] = _checked_address("To", to)
    msg["Subject"] = safe_header("Subject", subject)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = safe_header("Message-ID", message_id or new_message_id(sender))
    if reply_to:
        msg["Reply-To"] = _parsed_header("Reply-To", reply_to)
    if unsubscribe_url:
        targets = [f"<{safe_header('List-Unsubscribe', unsubscribe_url)}>"]
        if unsubscribe_mailto:
            targets.append(f"<{safe_header('List-Unsubscribe', unsubscribe_mailto)}>")
        msg["List-Unsubscribe"] = ", ".join(targets)
        msg["List-Unsubscribe-Post"] = _parsed_header("List-Unsubscribe-Post",
                                                      "List-Unsubscribe=One-Click")
    for name, value in (extra_headers or {}).items():
        msg[safe_header("header name", name)] = safe_header(name, value)
    # Explicit transfer encodings: letting the policy pick means encoding each part twice.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg


def _checked_address(name: str, value: str) -> str:
    safe_header(name, value)
    _, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise HeaderInjection(f"the {name} header needs an e-mail address")
    local, _, domain = addr.rpartition("@")
    return str(Address(addr_spec=f"{local}@{domain}"))

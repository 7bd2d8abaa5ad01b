"""Checks on e-mail addresses typed into forms and the command line."""

from __future__ import annotations

import re

# Top-level domains that never route on the public Internet (RFC 2606 / 6761).
UNROUTABLE_TLDS = frozenset({"invalid", "localhost", "local", "test", "internal", "lan", "home"})

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class InvalidEmail(ValueError):
    """The address cannot receive mail; the message says why, as a sentence."""


def normalize_email(raw: str) -> str:
    """Return the address trimmed, with a lower-cased domain, or raise InvalidEmail."""
    address = (raw or "").strip()
    if not address:
        raise InvalidEmail("Please enter an e-mail address.")
    if any(ch in address for ch in "\r\n\t\x00 <>,;\"()[]\\"):
        raise InvalidEmail("An e-mail address cannot contain spaces, line breaks or brackets.")
    if len(address) > 254 or address.count("@") != 1:
        raise InvalidEmail("That does not look like an e-mail address (name@example.org).")
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL.match(local):
        raise InvalidEmail("The part before the @ is not valid.")
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidEmail("The domain after the @ is not a routable mail domain.")
    tld = labels[-1]
    if tld in UNROUTABLE_TLDS or not tld.isalpha() or len(tld) < 2:
        raise InvalidEmail(f"Mail to .{tld} addresses cannot be delivered.")
    return f"{local}@{'.'.join(labels)}"


def email_key(address: str) -> str:
    """The case-insensitive key that makes one subscription per address."""
    return address.strip().lower()

"""Delivering mails: the `Mailer` interface, an SMTP client and an outbox folder.

`Mailer.send(message)` returns when the mail is accepted. It raises
`PermanentMailError` when the server refuses the mail for good (SMTP 5xx) and
`TemporaryMailError` when it could not be delivered now (4xx after the retries,
a dead or slow server); the caller decides what to do with each.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """Base of delivery errors."""


class TemporaryMailError(MailError):
    """Not delivered now; trying again later may work (4xx, connection trouble)."""


class PermanentMailError(MailError):
    """Refused for good (5xx): the address should be marked bounced."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- outbox


class OutboxMailer:
    """Writes each mail as an .eml file in a folder (the default without SMTP)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def describe(self) -> str:
        return f"outbox folder {self.directory}"

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = "".join(ch if ch.isalnum() or ch in "-._" else "_"
                       for ch in (message["Message-ID"] or "mail").strip("<>"))[:150]
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{stem}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- SMTP


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    use_ssl: bool  # smtps://
    starttls: str  # "auto" (when offered), "required" or "off"
    username: str | None
    password: str | None
    timeout_s: float
    local_hostname: str | None = None

    def describe(self) -> str:
        scheme = "smtps" if self.use_ssl else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"SMTP server {scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str, *, timeout_s: float = 20.0) -> SmtpConfig:
    """Read smtp://user:pass@host:port?starttls=auto|required|off&timeout=S or smtps://..."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("PAPERWIRE_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("PAPERWIRE_SMTP_URL needs a host name, as in smtp://mail.example.org:587")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "auto")
    if starttls not in ("auto", "required", "off"):
        raise ValueError("starttls in PAPERWIRE_SMTP_URL must be auto, required or off")
    use_ssl = parts.scheme == "smtps"
    if parts.username and not use_ssl:
        # Credentials never travel in clear text: a missing or stripped STARTTLS fails the send.
        if starttls == "off":
            raise ValueError("PAPERWIRE_SMTP_URL has a user name, so it needs TLS: use smtps:// "
                             "or drop starttls=off (STARTTLS is then required)")
        starttls = "required"
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if use_ssl else 25),
        use_ssl=use_ssl,
        starttls="off" if use_ssl else starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout_s=float(query.get("timeout", timeout_s)),
    )


class SmtpMailer:
    """One kept-open SMTP connection (re-opened when dropped), retries on 4xx.

    Thread-safe: sends are serialized on a lock.
    """

    def __init__(
        self,
        config: SmtpConfig,
        *,
        retries: int = 3,
        backoff_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = 20.0, **kwargs) -> SmtpMailer:
        return cls(parse_smtp_url(url, timeout_s=timeout_s), **kwargs)

    def describe(self) -> str:
        return self.config.describe()

    def send(self, message: EmailMessage) -> None:
        _, sender = parseaddr(message.get("Sender") or message["From"] or "")
        recipients = [parseaddr(value)[1] for value in message.get_all("To", [])]
        if not sender or not recipients or not all(recipients):
            raise PermanentMailError("the mail has no valid From or To address")
        with self._lock:
            for attempt in range(self.retries + 1):
                try:
                    self._send_once(message, sender, recipients)
                    return
                except TemporaryMailError as exc:
                    self._drop_connection()
                    if attempt >= self.retries:
                        raise
                    delay = self.backoff_s * (2**attempt)
                    log.warning("SMTP temporary failure (%s); retrying in %.1fs", exc, delay)
                    self._sleep(delay)

    def _send_once(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        reused = self._conn is not None
        try:
            conn = self._connection()
            try:
                refused = conn.send_message(message, from_addr=sender, to_addrs=recipients)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # A kept-open connection the server has since closed: reconnect once.
                self._drop_connection()
                conn = self._connection()
                refused = conn.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            self._raise_for(codes[0] if codes else 550, f"recipient refused: {exc.recipients}")
        except smtplib.SMTPSenderRefused as exc:
            # Our own sender address refused: a setup problem, never the recipient's bounce.
            raise TemporaryMailError(f"SMTP {exc.smtp_code} for the sender address: "
                                     f"{_reply_text(exc)}") from None
        except smtplib.SMTPResponseException as exc:  # DATA refused, and the like
            self._raise_for(exc.smtp_code, _reply_text(exc))
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryMailError(
                f"cannot talk to {self.describe()}: {exc or type(exc).__name__}"
            ) from None
        if refused:
            codes = [code for code, _ in refused.values()]
            self._raise_for(codes[0], f"recipient refused: {refused}")

    def _raise_for(self, code: int, text: str) -> None:
        if 400 <= code < 500:
            raise TemporaryMailError(f"SMTP {code}: {text}")
        raise PermanentMailError(f"SMTP {code}: {text}", code=code)

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        cfg = self.config
        try:
            if cfg.use_ssl:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout_s, context=self._ssl_context,
                    local_hostname=cfg.local_hostname,
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s,
                                    local_hostname=cfg.local_hostname)
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryMailError(
                f"cannot connect to {self.describe()}: {exc or type(exc).__name__}"
            ) from None
        try:
            conn.ehlo()
            encrypted = cfg.use_ssl
            if not cfg.use_ssl and cfg.starttls != "off":
                if conn.has_extn("starttls"):
                    conn.starttls(context=self._ssl_context)
                    conn.ehlo()
                    encrypted = True
                elif cfg.starttls == "required":
                    raise TemporaryMailError(f"{self.describe()} does not offer STARTTLS")
            if cfg.username:
                if not encrypted:  # never the password in clear text
                    raise TemporaryMailError(f"{self.describe()} offers no TLS; the SMTP "
                                             "password is not sent without it")
                conn.login(cfg.username, cfg.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(conn)
            raise TemporaryMailError(
                f"{self.describe()} refused the login ({exc.smtp_code}); check PAPERWIRE_SMTP_URL"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _quietly_close(conn)
            raise TemporaryMailError(
                f"cannot set up the session with {self.describe()}: {exc or type(exc).__name__}"
            ) from None
        except BaseException:
            _quietly_close(conn)
            raise
        self._conn = conn
        return conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            _quietly_close(self._conn)
            self._conn = None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._conn.quit()
                self._drop_connection()


def _reply_text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)


def _quietly_close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()


def build_mailer(smtp_url: str, outbox_dir: Path, *, timeout_s: float = 20.0,
                 retries: int = 3, backoff_s: float = 2.0) -> Mailer:
    """SMTP when a URL is configured, else the outbox folder."""
    if smtp_url:
        return SmtpMailer.from_url(smtp_url, timeout_s=timeout_s, retries=retries,
                                   backoff_s=backoff_s)
    return OutboxMailer(outbox_dir)

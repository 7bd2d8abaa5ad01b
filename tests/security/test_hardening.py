"""Cheap hardening: SMTP credentials only over TLS, safe XML parsing, documented settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperwire.config import Settings
from paperwire.mail.message import build_message
from paperwire.mail.transport import MailError, SmtpMailer, parse_smtp_url
from tests.digests.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]


def test_smtp_credentials_require_tls():
    assert parse_smtp_url("smtp://u:p@mail.example.org:587").starttls == "required"
    assert parse_smtp_url("smtp://mail.example.org:25").starttls == "auto"
    assert parse_smtp_url("smtps://u:p@mail.example.org").use_ssl
    with pytest.raises(ValueError, match="needs TLS"):
        parse_smtp_url("smtp://u:p@mail.example.org:587?starttls=off")


def test_a_server_without_starttls_never_sees_the_password():
    sink = SmtpSink().start()
    try:
        mailer = SmtpMailer.from_url(f"smtp://user:secret@127.0.0.1:{sink.port}?timeout=5",
                                     retries=0, backoff_s=0.0)
        message = build_message(sender="a@example.org", to="b@example.org", subject="s",
                                text="t", html="<p>t</p>")
        with pytest.raises(MailError, match="STARTTLS"):
            mailer.send(message)
        assert sink.messages == []
    finally:
        sink.stop()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&c;</title></feed>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><x>&x;</x></OAI-PMH>"""


def test_arxiv_atom_and_oai_pmh_refuse_dtds_and_entities():
    from paperwire.sources.arxiv_api import parse_feed
    from paperwire.sources.oai_pmh import parse_list_records

    for parse, body in ((parse_feed, BOMB), (parse_list_records, EXTERNAL),
                        (parse_feed, EXTERNAL), (parse_list_records, BOMB)):
        with pytest.raises(ValueError):
            parse(body)


def test_every_setting_is_documented():
    docs = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    names = set(re.findall(r"PAPERWIRE_[A-Z0-9_]+", docs))
    # The README groups related settings: `PAPERWIRE_X` / `_Y` / `_Z`.
    for group in re.findall(r"`(PAPERWIRE_[A-Z0-9_]+)`((?:\s*/\s*`_[A-Z0-9_]+`)+)", docs):
        head, tails = group
        stem = head.rsplit("_", 1)[0]
        for tail in re.findall(r"`(_[A-Z0-9_]+)`", tails):
            names.add(stem + tail)
            parts = head.split("_")
            for cut in range(2, len(parts)):
                names.add("_".join(parts[:cut]) + tail)
    missing = sorted(f"PAPERWIRE_{field.upper()}" for field in Settings.model_fields
                     if f"PAPERWIRE_{field.upper()}" not in names)
    assert missing == [], f"document these settings in the README or docs/: {missing}"

"""`paperwire digest send|preview`, `paperwire subscribers add|list|remove`, `paperwire worker`."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

from paperwire.cli.context import fail, open_container

digest_app = typer.Typer(help="Build and send the e-mail digests.", no_args_is_help=True)
subscribers_app = typer.Typer(help="Manage digest subscribers.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(digest_app, name="digest")
    app.add_typer(subscribers_app, name="subscribers")
    app.command("worker")(worker)


def _parse_date(value: str | None) -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"--date must be a day as YYYY-MM-DD, not {value!r}") from None


@digest_app.command("send")
def send(
    day: str = typer.Option(None, "--date", help="Build the digest as of this day (YYYY-MM-DD)."),
    batch_size: int = typer.Option(50, min=1, max=1000, help="Deliveries claimed at a time."),
) -> None:
    """Send the day's digests that are still missing (safe to rerun or run twice at once)."""
    from paperwire.services.digests import DigestRunFailed, send_digests

    digest_date = _parse_date(day)
    with open_container() as container:
        try:
            mailer = container.mailer
        except ValueError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"mail transport: {mailer.describe()}")
        try:
            report = send_digests(
                container.engine, mailer, container.settings, digest_date,
                search=container.search,
                batch_size=batch_size,
            )
        except DigestRunFailed as exc:
            typer.echo(exc.report.summary_line())
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted; the unsent digests are pending again: "
                       "run `paperwire digest send` to resume", code=130) from None
        typer.echo(report.summary_line())


@digest_app.command("preview")
def preview(
    email: str = typer.Option(..., "--email", help="The subscriber's address."),
    day: str = typer.Option(None, "--date", help="Build the digest as of this day (YYYY-MM-DD)."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for the .html and .txt files."),
) -> None:
    """Write the digest a subscriber would get as HTML and text files (nothing is sent)."""
    from paperwire.domain.email_addresses import email_key
    from paperwire.services.digests import preview_digest
    from paperwire.store.subscribers import find_subscriber

    digest_date = _parse_date(day)
    with open_container() as container:
        with container.engine.connect() as conn:
            subscriber = find_subscriber(conn, email_key(email))
        if subscriber is None:
            raise fail(f"no subscriber {email!r}; add one with `paperwire subscribers add`")
        digest, message = preview_digest(
            container.engine, container.settings, subscriber, digest_date,
            search=container.search,
        )
        out.mkdir(parents=True, exist_ok=True)
        stem = f"digest-{digest_date}-{subscriber.id}"
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        (out / f"{stem}.txt").write_text(text_part.get_content() if text_part else "", "utf-8")
        (out / f"{stem}.html").write_text(html_part.get_content() if html_part else "", "utf-8")
        typer.echo(f"subject: {message['Subject']}")
        typer.echo(f"{len(digest.paper_ids)} papers; wrote {out / stem}.html and .txt")


@subscribers_app.command("add")
def add(
    email: str = typer.Argument(..., help="The address to subscribe."),
    topic: list[str] = typer.Option(  # noqa: B006
        [], "--topic",
        help="A topic: a search query, or author:NAME, category:cs.CL, org:NAME (repeatable)."),
    frequency: str = typer.Option("daily", help="daily or weekly."),
    papers: int = typer.Option(10, "--papers", help="Papers per digest."),
    all_days: bool = typer.Option(False, "--all-days", help="Daily digests on weekends too."),
    confirmed: bool = typer.Option(False, "--confirmed",
                                   help="The list already opted in elsewhere: skip confirmation."),
) -> None:
    """Add (or update) a subscriber without sending any mail."""
    from paperwire.domain.digest_topics import InvalidTopic, parse_topic
    from paperwire.domain.email_addresses import InvalidEmail
    from paperwire.services.subscriptions import Choices, InvalidChoice, add_subscriber

    try:
        topics = tuple(dict.fromkeys(parse_topic(t) for t in topic))
        choices = Choices(frequency=frequency, paper_count=papers, weekdays_only=not all_days,
                          topics=topics)
    except InvalidTopic as exc:
        raise fail(str(exc)) from None
    with open_container() as container:
        try:
            subscriber, created = add_subscriber(container.engine, email, choices,
                                                 confirmed=confirmed)
        except (InvalidEmail, InvalidChoice) as exc:
            raise fail(str(exc)) from None
    state = "confirmed" if subscriber.is_confirmed else "awaiting confirmation"
    typer.echo(f"{'added' if created else 'updated'} {subscriber.email} ({state}, "
               f"{subscriber.frequency}, {len(subscriber.topics)} topics)")


class SubscriberStatus(StrEnum):
    active = "active"
    unsubscribed = "unsubscribed"
    bounced = "bounced"


@subscribers_app.command("list")
def list_(
    status: SubscriberStatus = typer.Option(
        None, help="Only active, unsubscribed or bounced.", show_default=False
    ),
) -> None:
    """List subscribers with their state and topics."""
    from paperwire.services.subscriptions import list_all

    with open_container() as container:
        rows = list_all(container.engine, status.value if status else None)
    for sub in rows:
        confirmed = "confirmed" if sub.is_confirmed else "unconfirmed"
        topics = "; ".join(t.as_text() for t in sub.topics) or "-"
        typer.echo(f"{sub.email}\t{sub.status}\t{confirmed}\t{sub.frequency}\t"
                   f"{sub.paper_count}\tbounces={sub.bounce_count}\t{topics}")
    typer.echo(f"{len(rows)} subscribers", err=True)


@subscribers_app.command("remove")
def remove(email: str = typer.Argument(..., help="The address to remove.")) -> None:
    """Delete a subscriber with its topics and delivery history."""
    from paperwire.services.subscriptions import remove_subscriber

    with open_container() as container:
        if not remove_subscriber(container.engine, email):
            raise fail(f"no subscriber {email!r}")
    typer.echo(f"removed {email}")


def worker(
    once: bool = typer.Option(False, "--once", help="Run the scheduled jobs now, once, and exit."),
    day: str = typer.Option(None, "--date", help="With --once: the day to run for (YYYY-MM-DD)."),
) -> None:
    """Run ingestion and digests on schedule (settings worker_time, worker_timezone)."""
    from paperwire.worker import Worker

    with open_container() as container:
        try:
            runner = Worker(container, echo=typer.echo)
            typer.echo(runner.describe())
        except ValueError as exc:
            raise fail(str(exc)) from None
        if once:
            runner.run_once(_parse_date(day) if day else runner.today())
            return
        try:
            runner.run_forever()
        except KeyboardInterrupt:
            typer.echo("worker stopped")

"""Subscribing to digests: form, confirmation link, settings link, one-click unsubscribe.

Every link carries a signed, expiring token; a bad one gets a page that says
what to do next. POST /unsubscribe/{token} is the RFC 8058 one-click target
(mail clients send it without cookies, so it is exempt from CSRF checks).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.domain.digest_topics import InvalidTopic, Topic, parse_topic_lines
from paperwire.domain.email_addresses import InvalidEmail
from paperwire.domain.signed_tokens import TokenError
from paperwire.mail.transport import MailError
from paperwire.services import subscriptions as service
from paperwire.services.mail_throttle import allow_mail
from paperwire.web.auth import client_ip
from paperwire.web.deps import ContainerDep
from paperwire.web.templating import templates

router = APIRouter(tags=["subscriptions"])

FORM_DEFAULTS = {"email": "", "frequency": "daily", "paper_count": 10, "weekdays_only": True,
                 "topics": ""}


def _page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _token_problem(request: Request, exc: Exception, purpose: str) -> HTMLResponse:
    if isinstance(exc, TokenError) and exc.reason == "expired":
        title = "This link has expired"
        advice = {
            "confirm": "Confirmation links work for 7 days. Subscribe again below and we will "
                       "send you a fresh one.",
            "settings": "Use the settings link in your latest digest, or subscribe again below "
                        "to get a new one by mail.",
            "unsubscribe": "Use the unsubscribe link in your latest digest, or enter your "
                           "address below: we will mail you a link to your settings.",
        }[purpose]
    elif isinstance(exc, service.UnknownSubscriber):
        title = "This subscription no longer exists"
        advice = "It was removed. You can subscribe again below."
    else:
        title = "This link is not valid"
        advice = ("It may have been cut or changed when it was copied. Open the link straight "
                  "from the mail, or subscribe again below to get a new one.")
    return _page(request, "subscriptions/link_problem.html", 400, title=title, advice=advice,
                 form=FORM_DEFAULTS)


async def _read_choices(request: Request) -> tuple[dict[str, object], service.Choices]:
    """The submitted form (for re-display) and the choices it makes; raises ValueError."""
    data = await request.form()
    form = {
        "email": str(data.get("email", ""))[:400],
        "frequency": str(data.get("frequency", "daily")),
        "paper_count": str(data.get("paper_count", "10")),
        "weekdays_only": data.get("weekdays_only") in ("on", "true", "1", "yes"),
        "topics": str(data.get("topics", ""))[:5000],
    }
    try:
        count = int(str(form["paper_count"]))
    except ValueError:
        raise service.InvalidChoice("The number of papers must be a whole number.") from None
    topics: tuple[Topic, ...] = tuple(parse_topic_lines(str(form["topics"])))
    choices = service.Choices(frequency=str(form["frequency"]), paper_count=count,
                              weekdays_only=bool(form["weekdays_only"]), topics=topics)
    return form, choices.checked()


def _form_of(subscriber) -> dict[str, object]:
    return {"email": subscriber.email, "frequency": subscriber.frequency,
            "paper_count": subscriber.paper_count, "weekdays_only": subscriber.weekdays_only,
            "topics": "\n".join(t.as_text() for t in subscriber.topics)}


@router.get("/subscribe", response_class=HTMLResponse, summary="The digest subscription form")
async def subscribe_form(request: Request, email: str = "") -> HTMLResponse:
    form = FORM_DEFAULTS | {"email": email[:320]}
    return _page(request, "subscriptions/subscribe.html", form=form, error=None)


@router.post("/subscribe", response_class=HTMLResponse, summary="Subscribe (double opt-in)")
async def subscribe(request: Request, container: ContainerDep) -> HTMLResponse:
    form: dict[str, object] = dict(FORM_DEFAULTS)
    try:
        form, choices = await _read_choices(request)
        user = getattr(request.state, "user", None)
        email = str(form["email"])
        if not await run_in_threadpool(allow_mail, container.engine, container.settings,
                                       recipient=email, ip=client_ip(request)):
            return _page(request, "subscriptions/check_inbox.html", email=email,
                         outcome="throttled")
        result = await run_in_threadpool(
            service.subscribe, container.engine, container.jobs, container.settings,
            str(form["email"]), choices, user_id=getattr(user, "id", None),
        )
    except (InvalidEmail, InvalidTopic, service.InvalidChoice) as exc:
        return _page(request, "subscriptions/subscribe.html", 422, form=form, error=str(exc))
    return _page(request, "subscriptions/check_inbox.html", email=result.subscriber.email,
                 outcome=result.outcome)


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse,
            summary="The mailed confirmation link: a page with a Confirm button")
async def confirm_page(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    """Changes nothing: mail scanners follow links, so confirming takes the button (POST)."""
    try:
        subscriber = await run_in_threadpool(
            service.subscriber_for_token, container.engine, container.settings, "confirm", token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "confirm")
    if subscriber.is_confirmed:
        return _page(request, "subscriptions/confirmed.html", subscriber=subscriber,
                     settings_url=service.settings_link(container.settings, subscriber),
                     unsubscribe_url=service.unsubscribe_link(container.settings, subscriber))
    return _page(request, "subscriptions/confirm.html", subscriber=subscriber, token=token)


@router.post("/subscribe/confirm/{token}", response_class=HTMLResponse,
             summary="Confirm a subscription")
async def confirm(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    try:
        subscriber = await run_in_threadpool(service.confirm, container.engine,
                                             container.settings, token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "confirm")
    return _page(request, "subscriptions/confirmed.html", subscriber=subscriber,
                 settings_url=service.settings_link(container.settings, subscriber),
                 unsubscribe_url=service.unsubscribe_link(container.settings, subscriber))


@router.get("/subscribe/settings/{token}", response_class=HTMLResponse,
            summary="Change topics and frequency (link from every mail)")
async def settings_form(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    try:
        subscriber = await run_in_threadpool(
            service.subscriber_for_token, container.engine, container.settings, "settings", token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "settings")
    return _page(request, "subscriptions/settings.html", subscriber=subscriber,
                 form=_form_of(subscriber), error=None, saved=False, token=token,
                 unsubscribe_url=service.unsubscribe_link(container.settings, subscriber))


@router.post("/subscribe/settings/{token}", response_class=HTMLResponse,
             summary="Save topics and frequency")
async def settings_save(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    try:
        subscriber = await run_in_threadpool(
            service.subscriber_for_token, container.engine, container.settings, "settings", token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "settings")
    unsubscribe_url = service.unsubscribe_link(container.settings, subscriber)
    form = _form_of(subscriber)
    try:
        form, choices = await _read_choices(request)
        subscriber = await run_in_threadpool(service.update_settings, container.engine,
                                             container.settings, token, choices)
    except (InvalidTopic, service.InvalidChoice) as exc:
        return _page(request, "subscriptions/settings.html", 422, subscriber=subscriber,
                     form=form | {"email": subscriber.email}, error=str(exc), saved=False,
                     token=token, unsubscribe_url=unsubscribe_url)
    return _page(request, "subscriptions/settings.html", subscriber=subscriber,
                 form=_form_of(subscriber), error=None, saved=True, token=token,
                 unsubscribe_url=unsubscribe_url)


@router.post("/subscribe/settings/{token}/revoke", response_class=HTMLResponse,
             summary="Log out these links: every mailed link stops working, a new one is sent")
async def revoke_links(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    try:
        try:
            mailer = container.mailer
        except ValueError as exc:
            raise MailError(str(exc)) from None
        subscriber = await run_in_threadpool(service.revoke_links, container.engine, mailer,
                                             container.settings, token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "settings")
    except MailError:
        return _page(request, "subscriptions/link_problem.html", 503,
                     title="The old links are logged out",
                     advice="We could not mail you a new settings link just now. Subscribe "
                            "again below with the same address to get one.",
                     form=FORM_DEFAULTS)
    return _page(request, "subscriptions/check_inbox.html", email=subscriber.email,
                 outcome="links_revoked")


@router.get("/unsubscribe/{token}", response_class=HTMLResponse,
            summary="Unsubscribe page with a confirmation button")
async def unsubscribe_page(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    try:
        subscriber = await run_in_threadpool(
            service.unsubscribe_target, container.engine, container.settings, token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "unsubscribe")
    return _page(request, "subscriptions/unsubscribe.html", subscriber=subscriber, token=token,
                 done=False)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse,
             summary="One-click unsubscribe (RFC 8058)")
async def unsubscribe(request: Request, token: str, container: ContainerDep) -> HTMLResponse:
    try:
        subscriber = await run_in_threadpool(service.unsubscribe, container.engine,
                                             container.settings, token)
    except (TokenError, service.UnknownSubscriber) as exc:
        return _token_problem(request, exc, "unsubscribe")
    return _page(request, "subscriptions/unsubscribe.html", subscriber=subscriber, token=token,
                 done=True)


@router.get("/digest/preview", summary="An admin's preview of one subscriber's digest",
            include_in_schema=False)
async def digest_preview(request: Request, container: ContainerDep, email: str = "",
                         day: str = "", format: str = "html") -> Response:
    user = getattr(request.state, "user", None)
    if user is None or getattr(user, "role", None) != "admin":
        return PlainTextResponse("Not Found", status_code=404)
    from paperwire.domain.email_addresses import email_key
    from paperwire.services.digests import preview_digest
    from paperwire.store.subscribers import find_subscriber

    try:
        digest_date = date.fromisoformat(day) if day else date.today()
    except ValueError:
        return PlainTextResponse("day must be YYYY-MM-DD", status_code=400)

    def build():
        with container.engine.connect() as conn:
            subscriber = find_subscriber(conn, email_key(email))
        if subscriber is None:
            return None
        return preview_digest(container.engine, container.settings, subscriber, digest_date,
                              search=container.search)[1]

    message = await run_in_threadpool(build)
    if message is None:
        return _page(request, "subscriptions/preview_missing.html", 404, email=email)
    kind = "plain" if format == "text" else "html"
    part = message.get_body(preferencelist=(kind,))
    body = part.get_content() if part else ""
    if kind == "plain":
        return PlainTextResponse(body)
    return HTMLResponse(body)

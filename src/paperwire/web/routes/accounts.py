"""Sign-up, login (password or mailed link), email verification, password reset,
logout and the settings page with API tokens.

Mail links open a page with a button: the POST changes state, the GET never does
(so link scanners in mail clients cannot use up a token).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from paperwire.services import accounts
from paperwire.services.accounts import AccountError, AccountMail, LockedOut
from paperwire.web.auth import client_ip, current_user, end_session, start_session
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page

router = APIRouter(tags=["accounts"])

Format = Annotated[Literal["html", "json"], Query(description="html (default) or json")]
Text = Annotated[str, Form(max_length=5000)]
TokenQuery = Annotated[str, Query(max_length=200)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CHECK_MAIL = (
    "If an account uses that address, a mail with a link is on its way. "
    "The link works once and expires soon."
)


def _mail(container) -> AccountMail:
    return container.account_mail


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only same-site paths: no scheme, no host, no backslash tricks."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/"


def _form(
    request: Request,
    template: str,
    *,
    values: dict[str, Any] | None = None,
    error: AccountError | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    errors = {}
    if error is not None:
        errors[error.field or "form"] = error.message
    headers = {}
    if isinstance(error, LockedOut):
        status = 429
        headers["Retry-After"] = str(error.retry_after_s)
    response = page(
        request, template, {"values": values or {}, "errors": errors, **extra}, status_code=status
    )
    response.headers.update(headers)
    return response


# -- sign-up -----------------------------------------------------------------------


@router.get("/signup", summary="Sign-up form")
def signup_form(request: Request) -> Response:
    if current_user(request):
        return see_other("/settings")
    return _form(request, "accounts/signup.html")


@router.post("/signup", summary="Create an account")
def signup(
    request: Request,
    container: ContainerDep,
    username: Text = "",
    email: Text = "",
    password: Text = "",
) -> Response:
    values = {"username": username, "email": email}
    try:
        # A taken email answers exactly like a new one (its owner gets a notice mail).
        answer = accounts.sign_up(container.engine, _mail(container), username=username,
                                  email=email, password=password, ip=client_ip(request))
    except AccountError as exc:
        return _form(request, "accounts/signup.html", values=values, error=exc, status=400)
    return page(
        request,
        "accounts/message.html",
        {
            "title": "Check your email",
            "message": (
                f"Welcome, {answer.username}! A mail with a link is on its way to "
                f"{answer.email}. Open it, then log in. No mail within a few minutes? "
                "Log in and ask for it again in Settings."
            ),
            "link": ("/login", "Log in"),
        },
        status_code=201,
    )


# -- login -------------------------------------------------------------------------


@router.get("/login", summary="Login form")
def login_form(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    if current_user(request):
        return see_other(safe_next(next))
    return _form(request, "accounts/login.html", values={"next": safe_next(next)})


@router.post("/login", summary="Log in with a password")
def login(
    request: Request,
    container: ContainerDep,
    login: Text = "",
    password: Text = "",
    next: Text = "/",
) -> Response:
    values = {"login": login, "next": safe_next(next)}
    try:
        user = accounts.authenticate(
            container.engine,
            container.settings,
            login=login,
            password=password,
            ip=client_ip(request),
        )
    except AccountError as exc:
        status = 401 if exc.message == accounts.LOGIN_FAILED else 400
        return _form(request, "accounts/login.html", values=values, error=exc, status=status)
    response = see_other(safe_next(next))
    start_session(request, response, user)
    return response


@router.post("/login/email-link", summary="Mail me a login link")
def request_magic_link(request: Request, container: ContainerDep, email: Text = "") -> Response:
    _mail(container).send_magic_link(email, client_ip(request))
    return page(
        request, "accounts/message.html", {"title": "Check your email", "message": CHECK_MAIL}
    )


@router.get("/login/magic", summary="Confirm a login link")
def magic_link_page(request: Request, container: ContainerDep, token: TokenQuery = "") -> Response:
    user = accounts.peek_one_time_token(container.engine, token, accounts.MAGIC_LINK)
    return _token_page(
        request, user, token, "/login/magic", "Log in", f"Log in as {user.username}" if user else ""
    )


@router.post("/login/magic", summary="Log in with a mailed link")
def magic_login(request: Request, container: ContainerDep, token: Text = "") -> Response:
    try:
        user = accounts.use_magic_link(container.engine, token)
    except AccountError as exc:
        return _invalid_link(request, exc)
    response = see_other("/")
    start_session(request, response, user)
    return response


def _token_page(
    request: Request, user, token: str, action: str, title: str, button: str
) -> Response:
    if user is None:
        return _invalid_link(request, AccountError(accounts.INVALID_LINK))
    return page(
        request,
        "accounts/confirm_link.html",
        {"title": title, "action": action, "token": token, "button": button, "user": user},
    )


def _invalid_link(request: Request, exc: AccountError) -> Response:
    return page(
        request,
        "accounts/message.html",
        {"title": "Link not valid", "message": exc.message, "link": ("/login", "Log in")},
        status_code=400,
    )


@router.post("/logout", summary="Log out")
def logout(request: Request) -> Response:
    response = see_other("/")
    end_session(request, response)
    return response


# -- email verification ------------------------------------------------------------


@router.get("/verify-email", summary="Confirm an email address (shows a button)")
def verify_email_page(
    request: Request, container: ContainerDep, token: TokenQuery = ""
) -> Response:
    user = accounts.peek_one_time_token(container.engine, token, accounts.VERIFY_EMAIL)
    return _token_page(
        request,
        user,
        token,
        "/verify-email",
        "Confirm your email address",
        "Confirm my email address",
    )


@router.post("/verify-email", summary="Confirm an email address")
def verify_email(request: Request, container: ContainerDep, token: Text = "") -> Response:
    try:
        user = accounts.verify_email(container.engine, token)
    except AccountError as exc:
        return _invalid_link(request, exc)
    return page(
        request,
        "accounts/message.html",
        {
            "title": "Email confirmed",
            "message": f"Thank you, {user.username}: your email address is confirmed.",
            "link": ("/" if current_user(request) else "/login", "Continue"),
        },
    )


# -- password reset ----------------------------------------------------------------


@router.get("/forgot-password", summary="Password reset form")
def forgot_form(request: Request) -> Response:
    return _form(request, "accounts/forgot_password.html")


@router.post("/forgot-password", summary="Mail a password reset link")
def forgot_password(request: Request, container: ContainerDep, email: Text = "") -> Response:
    _mail(container).send_password_reset(email, client_ip(request))
    return page(
        request, "accounts/message.html", {"title": "Check your email", "message": CHECK_MAIL}
    )


@router.get("/reset-password", summary="Choose a new password (from a mailed link)")
def reset_form(request: Request, container: ContainerDep, token: TokenQuery = "") -> Response:
    user = accounts.peek_one_time_token(container.engine, token, accounts.RESET_PASSWORD)
    if user is None:
        return _invalid_link(request, AccountError(accounts.INVALID_LINK))
    return _form(request, "accounts/reset_password.html", values={"token": token}, user=user)


@router.post("/reset-password", summary="Set a new password")
def reset_password(
    request: Request, container: ContainerDep, token: Text = "", password: Text = ""
) -> Response:
    try:
        accounts.reset_password(container.engine, token, password)
    except AccountError as exc:
        if exc.field == "password":
            user = accounts.peek_one_time_token(container.engine, token, accounts.RESET_PASSWORD)
            return _form(
                request,
                "accounts/reset_password.html",
                values={"token": token},
                error=exc,
                status=400,
                user=user,
            )
        return _invalid_link(request, exc)
    return page(
        request,
        "accounts/message.html",
        {
            "title": "Password changed",
            "message": "Your new password is set; log in with it.",
            "link": ("/login", "Log in"),
        },
    )


# -- settings and API tokens -------------------------------------------------------


def _settings_context(container, user, **extra: Any) -> dict[str, Any]:
    return {"user": user, "tokens": accounts.list_api_tokens(container.engine, user.id), **extra}


def _tokens_json(tokens: list[accounts.ApiToken]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "createdAt": t.created_at.isoformat(),
            "lastUsedAt": t.last_used_at.isoformat() if t.last_used_at else None,
            "expiresAt": t.expires_at.isoformat() if t.expires_at else None,
        }
        for t in tokens
    ]


@router.get("/settings", summary="Account settings and API tokens")
def settings_page(request: Request, container: ContainerDep, format: Format = "html") -> Response:
    user = current_user(request)
    if user is None:
        if format == "json":
            return FastJSON({"detail": "Log in first."}, status_code=401)
        return see_other("/login?next=/settings")
    context = _settings_context(container, user)
    if format == "json":
        return FastJSON(
            {
                "user": user.public() | {"email": user.email, "emailVerified": user.email_verified},
                "tokens": _tokens_json(context["tokens"]),
            }
        )
    return page(request, "accounts/settings.html", context | {"values": {}, "errors": {}})


@router.post("/settings/tokens", summary="Create an API token")
def create_token(
    request: Request, container: ContainerDep, name: Text = "", expires_days: Text = ""
) -> Response:
    user = current_user(request)
    if user is None:
        return see_other("/login?next=/settings")
    try:
        days = expires_days.strip()
        if days and not days.isdigit():
            raise AccountError("Give the expiry as a number of days, or leave it empty.",
                               "expires_days")
        raw = accounts.create_api_token(
            container.engine, user.id, name, expires_days=int(days) if days else None
        )
    except AccountError as exc:
        context = _settings_context(
            container,
            user,
            values={"name": name, "expires_days": expires_days},
            errors={exc.field or "form": exc.message},
        )
        return page(request, "accounts/settings.html", context, status_code=400)
    context = _settings_context(container, user, new_token=raw, values={}, errors={})
    return page(request, "accounts/settings.html", context, status_code=201)


@router.post("/settings/tokens/{token_id}/revoke", summary="Revoke an API token")
def revoke_token(request: Request, container: ContainerDep, token_id: RowId) -> Response:
    user = current_user(request)
    if user is None:
        return see_other("/login?next=/settings")
    if not accounts.revoke_api_token(container.engine, user.id, token_id):
        return page(
            request,
            "error.html",
            {"title": "Not found", "message": "You have no such token."},
            status_code=404,
        )
    return see_other("/settings")


@router.post("/settings/resend-verification", summary="Send the confirmation mail again")
def resend_verification(request: Request, container: ContainerDep) -> Response:
    user = current_user(request)
    if user is None:
        return see_other("/login?next=/settings")
    if not user.email_verified:
        _mail(container).send_verification(user, client_ip(request))
    context = _settings_context(
        container,
        user,
        values={},
        errors={},
        notice=f"We mailed a new confirmation link to {user.email}.",
    )
    return page(request, "accounts/settings.html", context)


# -- JSON API for scripts ----------------------------------------------------------


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expiresDays: int | None = Field(default=None, ge=1, le=3650)  # noqa: N815 (JSON name)


@router.get("/api/me", summary="The account making this request")
def api_me(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return FastJSON({"detail": "Log in or send an API token."}, status_code=401)
    return FastJSON(user.public() | {"emailVerified": user.email_verified})


@router.post("/api/tokens", summary="Create an API token (shown once)", status_code=201)
def api_create_token(
    request: Request, container: ContainerDep, data: Annotated[TokenCreate, Body()]
) -> Response:
    user = current_user(request)
    if user is None:
        return FastJSON({"detail": "Log in first."}, status_code=401)
    if request.scope.get("state", {}).get("auth_method") == "token":
        # A leaked token must not be able to mint tokens that outlive its revocation.
        return FastJSON({"detail": "API tokens are created from a logged-in session (the "
                                   "settings page), not with another token."}, status_code=403)
    try:
        raw = accounts.create_api_token(
            container.engine, user.id, data.name, expires_days=data.expiresDays
        )
    except AccountError as exc:
        return FastJSON({"detail": exc.message}, status_code=400)
    return FastJSON({"token": raw, "name": data.name.strip()}, status_code=201)


@router.delete("/api/tokens/{token_id}", summary="Revoke an API token")
def api_revoke_token(request: Request, container: ContainerDep, token_id: RowId) -> Response:
    user = current_user(request)
    if user is None:
        return FastJSON({"detail": "Log in or send an API token."}, status_code=401)
    if not accounts.revoke_api_token(container.engine, user.id, token_id):
        return FastJSON({"detail": "You have no such token."}, status_code=404)
    return FastJSON({"revoked": token_id})

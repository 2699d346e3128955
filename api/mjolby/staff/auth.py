"""The staff session cookie and the CSRF rules of the staff routes.

- The cookie (HttpOnly, SameSite=Strict, Secure outside development) holds a
  random token; the database keeps only its SHA-256.
- Every state-changing staff request proves it comes from our own page: the
  JSON API with the header X-CSRF-Token, the console's forms with a hidden
  field, both equal to the session's CSRF token. The sign-in form, which has
  no session yet, uses a double-submit cookie.
- The JSON API answers 401 without a session and 403 with the wrong role;
  the console redirects to its sign-in page instead of answering 401
  (the dependencies that check this are in mjolby.deps).
- A session ends STAFF_IDLE_MINUTES after its last use. Requests the console
  makes by itself (live streams, refreshing the queue) check the session but
  do not count as use.
"""
from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from mjolby.config import Settings
from mjolby.staff.service import StaffContext

COOKIE_NAME = "mjolby_staff"
LOGIN_CSRF_COOKIE = "mjolby_staff_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

NOT_SIGNED_IN = "Du är inte inloggad."
WRONG_ROLE = "Din roll har inte behörighet till det här."
BAD_CSRF = "Förfrågan saknar en giltig säkerhetstoken. Ladda om sidan och försök igen."


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME, token, max_age=int(settings.staff_session_hours * 3600), path="/",
        httponly=True, secure=settings.environment != "development", samesite="strict",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True,
                           secure=settings.environment != "development", samesite="strict")


def set_login_csrf_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/staff", httponly=True,
                        secure=settings.environment != "development", samesite="strict")


def new_login_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def login_csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


def csrf_matches(ctx: StaffContext, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(ctx.csrf_token, submitted or "")

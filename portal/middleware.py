import zoneinfo

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone


class UserTimezoneMiddleware:
    """Show every time in the signed-in person's own time zone (stored times stay UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """Refuse a request body larger than REQUEST_BODY_MAX_BYTES from its Content-Length, before
    anything reads it: first in MIDDLEWARE, so neither CSRF's parsing of the form, nor the upload
    handlers, nor a view of someone not signed in reads a byte of it. A chunked body (no length
    given) is refused with 411: Django would not read it, and no browser sends one.

    Pages get a short HTML page, JSON clients (the Intercom webhook) `{"error": ...}`. The view
    limits (the CSV import's 5 MB, DISPUTE_EVIDENCE_MAX_MB, INTERCOM_WEBHOOK_MAX_BYTES) still
    apply below this one, with their own messages.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if not raw_length.strip():
            if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
                return _refusal(
                    request, 411, "Content-Length required: chunked request bodies are not accepted."
                )
        else:
            try:
                length = int(raw_length)
            except ValueError:
                length = 0  # Django reads no body for an unreadable length; the view says why
            if length > settings.REQUEST_BODY_MAX_BYTES:
                limit_mb = settings.REQUEST_BODY_MAX_BYTES / 1024 / 1024
                return _refusal(request, 413, f"Request too large: the limit is {limit_mb:.0f} MB.")
        return self.get_response(request)


def _refusal(request, status: int, message: str) -> HttpResponse:
    if request.content_type == "application/json" or not request.accepts("text/html"):
        response = JsonResponse({"error": message}, status=status)
    else:
        html = render_to_string("request_refused.html", {"status": status, "message": message})
        response = HttpResponse(html, status=status)
    # This answer skips every other middleware: the headers they would have added.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'self'; frame-ancestors 'none'"
    return response

"""Where to send someone back to: the one check for every `next` (or other return address) a
request carries, so a crafted link cannot bounce a signed-in person to another site."""

from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request, *, default: str, field: str = "next") -> str:
    """The address in the request's `field` (the POST body first, then the query string) when it
    stays on this site, otherwise `default`.

    Django's own check: a path or an absolute URL on the request's host; `//evil.example`,
    `/\\evil.example` (browsers read the backslash as a slash), `https://evil.example`,
    `javascript:` and other schemes are refused, and over HTTPS an `http://` address on our own
    host is refused too.
    """
    target = request.POST.get(field) if request.method == "POST" else None
    if target is None:
        target = request.GET.get(field)
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default

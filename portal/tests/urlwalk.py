"""Every URL pattern of the project, with its path parameters filled, for the access tests."""

import re
import uuid
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# Values tried for a path parameter, in order; the first that fits the pattern is used.
SAMPLE_VALUES = ["1", "portal", "DSP-2026-1", "x", str(uuid.UUID(int=1)), "MQ", "set-password"]
CONVERTER_SAMPLES = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.UUID(int=1)), "path": "1"}


@dataclass(frozen=True)
class WalkedUrl:
    path: str
    name: str  # namespaced URL name, or "" when the pattern has none


def _fill_route(route: str) -> str:
    def sample(match):
        converter = match.group(1) or "str"
        return CONVERTER_SAMPLES.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", sample, route)


def _fill_regex(regex: str) -> str:
    def sample(match):
        group_regex = match.group(2)
        for value in SAMPLE_VALUES:
            if re.fullmatch(group_regex, value):
                return value
        return "1"

    filled = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", sample, regex)
    return filled.lstrip("^").rstrip("$").replace("\\", "")


def _fill(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return _fill_route(str(pattern._route))
    if isinstance(pattern, RegexPattern):
        return _fill_regex(pattern._regex)
    raise TypeError(f"Unknown pattern type {pattern!r}")


def walk_urls(patterns=None, prefix="", namespace="") -> list[WalkedUrl]:
    patterns = get_resolver().url_patterns if patterns is None else patterns
    found = []
    for entry in patterns:
        path = prefix + _fill(entry.pattern)
        if isinstance(entry, URLResolver):
            inner_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.extend(walk_urls(entry.url_patterns, path, inner_ns))
        elif isinstance(entry, URLPattern):
            found.append(WalkedUrl(path="/" + path, name=f"{namespace}{entry.name}" if entry.name else ""))
    return found

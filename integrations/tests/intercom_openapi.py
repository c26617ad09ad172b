"""Check the fake Intercom's traffic against the official OpenAPI description (2.16), so that the fake
cannot drift into a dialect of its own.

The file is `integrations/tests/fixtures/intercom/api.intercom.io.yaml`, a verbatim copy of the official description. It does
not pass strict OpenAPI validation (an unresolved path parameter, `job_identifier` of
`/export/reporting_data/{job_identifier}`), so it is loaded with spec validation off. Where the
file itself is wrong about the real service, `SPEC_CORRECTIONS` patches the loaded copy (never the
file) as little as possible, each with the reason; the fake follows the real behaviour.

Many schemas mark nothing as required, so a schema check alone would accept `{}`: `check()` also
asserts the `type` of the response object and of every item in it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator, oas30_format_checker

REPO_ROOT = Path(__file__).resolve().parents[2]
# A verbatim copy of Intercom's official description (version 2.16; provenance in the README
# beside it), kept in the repository so the tests run on a machine with nothing else checked out.
SPEC_PATH = REPO_ROOT / "integrations" / "tests" / "fixtures" / "intercom" / "api.intercom.io.yaml"
# The fake serves loopback URLs; requests are matched against the spec's own US server.
SPEC_SERVER = "https://api.intercom.io"


def _note_contact_id_is_a_string(spec: dict) -> None:
    """`POST /contacts/{contact_id}/notes` types `contact_id` as an integer, but contact ids are
    24-hex strings (the operation's own examples send `6762f0ad1bb69f9f2193bb62`, and `GET` on the
    same path types it as a string). Real behaviour wins: the parameter is a string."""
    operation = spec["paths"]["/contacts/{contact_id}/notes"]["post"]
    (parameter,) = [p for p in operation["parameters"] if p.get("name") == "contact_id"]
    assert parameter["schema"] == {"type": "integer"}, "the spec changed: re-check this correction"
    parameter["schema"] = {"type": "string"}


def _nullable_references_accept_null(spec: dict) -> None:
    """The file writes `nullable: true` beside `$ref` (or on a schema whose type comes from
    `allOf`), meaning "this object or null", and its examples return null there (a conversation's
    `ai_agent`, a part's `assigned_to`, a tag's `applied_by`). Under OpenAPI 3.0 a validator ignores
    siblings of `$ref` and nullable does not reach into `allOf`, so null would be refused.
    Rewrite each such schema as `anyOf: [the schema, null]`, which says what the authors meant."""
    null_only = {"type": "object", "nullable": True, "enum": [None]}

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: visit(value) for key, value in node.items()}
        if node.get("nullable") is True and ("$ref" in node or "allOf" in node):
            inner = {key: value for key, value in node.items() if key != "nullable"}
            return {"anyOf": [inner, null_only]}
        return node

    spec["paths"] = visit(spec["paths"])
    spec["components"]["schemas"] = visit(spec["components"]["schemas"])


def _conversation_sender_id_is_not_a_uuid(spec: dict) -> None:
    """`POST /conversations` gives `from.id` `format: uuid`, yet describes it as "the identifier
    for the contact which is given by Intercom", 24 characters long (`minLength`/`maxLength` 24,
    example `536e564f316c83104c000020`): a contact id, 24 hex characters, never a UUID (36). Real
    behaviour wins: the format is dropped, the length kept."""
    schema = spec["components"]["schemas"]["create_conversation_request"]["properties"]["from"]["properties"][
        "id"
    ]
    assert schema.get("format") == "uuid" and schema.get("minLength") == 24, "the spec changed: re-check"
    del schema["format"]


SPEC_CORRECTIONS: tuple[Callable[[dict], None], ...] = (
    _note_contact_id_is_a_string,
    _nullable_references_accept_null,
    _conversation_sender_id_is_not_a_uuid,
)


@functools.cache
def spec_dict() -> dict:
    """The description as loaded (with SPEC_CORRECTIONS applied); loaded once per session."""
    if not SPEC_PATH.exists():
        raise FileNotFoundError(f"the official Intercom OpenAPI file is missing: {SPEC_PATH}")
    with SPEC_PATH.open("rb") as handle:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(handle, Loader=loader)  # a safe loader (the C one when built)
    for correct in SPEC_CORRECTIONS:
        correct(spec)
    return spec


@functools.cache
def openapi() -> OpenAPI:
    # The file fails strict validation (the unresolved path parameter above): no spec validator.
    return OpenAPI.from_dict(spec_dict(), config=Config(spec_validator_cls=None))


@functools.cache
def _error_validator() -> OAS30Validator:
    """The `error` component schema on its own, for error statuses an operation does not list."""
    spec = spec_dict()
    schema = copy.deepcopy(spec["components"]["schemas"]["error"])
    return OAS30Validator(schema, format_checker=oas30_format_checker)


class _SpecRequest(RequestsOpenAPIRequest):
    @property
    def host_url(self) -> str:
        return SPEC_SERVER


def _describe(errors: list[Exception]) -> str:
    lines = []
    for error in errors:
        lines.append(f"{type(error).__name__}: {error}")
        cause = error.__cause__
        for schema_error in getattr(cause, "schema_errors", None) or []:
            where = "/".join(str(p) for p in schema_error.absolute_path) or "(root)"
            lines.append(f"  at {where}: {schema_error.message[:300]}")
        if cause is not None and not getattr(cause, "schema_errors", None):
            lines.append(f"  caused by {cause!r}"[:400])
    return "\n".join(lines)


def validate_request(response: requests.Response) -> None:
    """Assert the request behind `response` is one the spec accepts (body, parameters, auth)."""
    result = openapi().unmarshal_request(_SpecRequest(response.request))
    assert not result.errors, f"request does not match the spec:\n{_describe(result.errors)}"


def validate_error_object(response: requests.Response) -> None:
    problems = sorted(_error_validator().iter_errors(response.json()), key=str)
    assert not problems, "not a valid `error` object: " + "; ".join(p.message for p in problems)


def validate_response(response: requests.Response) -> None:
    """Assert `response` matches the spec's schema for its operation and status code. An error
    status the operation does not list (the spec leaves out most 400s, 404s and every 429) must
    still be a valid `error` object."""
    result = openapi().unmarshal_response(_SpecRequest(response.request), RequestsOpenAPIResponse(response))
    errors = list(result.errors)
    if errors and all(isinstance(e, ResponseNotFound) for e in errors) and response.status_code >= 400:
        validate_error_object(response)
        return
    assert not errors, (
        f"{response.request.method} {response.request.path_url} -> {response.status_code} "
        f"does not match the spec:\n{_describe(errors)}"
    )


_ITEM_KEYS = ("data", "admins", "teams", "conversations")


def check(
    response: requests.Response,
    status: int,
    type_: str,
    *,
    items: str | None = None,
    request_matches_spec: bool = True,
    route_in_spec: bool = True,
) -> dict:
    """Assert status and `type` (and each item's `type` for a list), validate the response (and,
    unless told otherwise, the request) against the spec; return the decoded body. For a path the
    spec does not have (`route_in_spec=False`) only the `error` object can be checked."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text[:500]}"
    )
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body.get("type") == type_, f"expected type {type_!r}, got {body.get('type')!r}"
    if items is not None:
        (key,) = [k for k in _ITEM_KEYS if k in body]
        assert all(item.get("type") == items for item in body[key]), [i.get("type") for i in body[key]]
    if type_ == "error.list":
        assert body["errors"] and all(e.get("code") for e in body["errors"])
    if not route_in_spec:
        validate_error_object(response)
        return body
    if request_matches_spec:
        validate_request(response)
    validate_response(response)
    return body


def check_error(
    response: requests.Response,
    status: int,
    code: str,
    *,
    message: str | None = None,
    request_matches_spec: bool = False,
    route_in_spec: bool = True,
) -> dict:
    """An `error.list` with `status` whose first error has `code` (and `message`, if given).
    Requests that provoke errors are usually outside the spec, so they are not validated."""
    body = check(
        response,
        status,
        "error.list",
        request_matches_spec=request_matches_spec,
        route_in_spec=route_in_spec,
    )
    assert body["errors"][0]["code"] == code, body
    if message is not None:
        assert body["errors"][0]["message"] == message, body
    return body

"""Schemathesis hooks for partner-center: who the fuzzer is, and the two-account checks.

Loaded by fuzz/run through SCHEMATHESIS_HOOKS=hooks. Reads the state file written by
setup_accounts.py (PC_FUZZ_STATE) and the tokens from the environment.

Identities: every partner route (and the sandbox routes: account A is a sandbox account) is
called as user A, the owner of account A; `/v1/operator/...` routes as an operator. User B,
the owner of account B in another directory, never fuzzes: B's token only replays what A was
allowed to do, and B's ids are what A must never see.
"""

from __future__ import annotations

import json
import os

import requests
import schemathesis
from schemathesis import GenerationMode

TOKEN_A = os.environ["PC_FUZZ_TOKEN_A"]
TOKEN_B = os.environ["PC_FUZZ_TOKEN_B"]
TOKEN_OPERATOR = os.environ["PC_FUZZ_TOKEN_OPERATOR"]
EMAIL_B = os.environ["PC_FUZZ_EMAIL_B"]
BASE_URL = os.environ["PC_FUZZ_URL"]
with open(os.environ["PC_FUZZ_STATE"], encoding="utf-8") as state_file:
    STATE = json.load(state_file)

OPERATOR_PATHS = r"^/v1/operator/"


def _ids(account: dict) -> set[str]:
    found: set[str] = set()
    for value in account.values():
        if isinstance(value, list):
            found.update(str(item) for item in value)
        else:
            found.add(str(value))
    return found


B_IDS = _ids(STATE["b"])


def _bearer(case, token: str) -> None:
    case.headers = case.headers or {}
    case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth(refresh_interval=None).skip_for(path_regex=OPERATOR_PATHS)
class UserA:
    def get(self, case, context):
        return TOKEN_A

    def set(self, case, data, context):
        _bearer(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(path_regex=OPERATOR_PATHS)
class Operator:
    def get(self, case, context):
        return TOKEN_OPERATOR

    def set(self, case, data, context):
        _bearer(case, data)


# Path parameters that name shared catalog entries, not objects owned by an account: B reads
# the same program and help topic as A, by design (DESIGN §5, §8). A directory id is replayed:
# B, not a user of A's account, cannot switch into A's directory.
SHARED_PATH_PARAMETERS = {"program_id", "topic_id"}


def _text(response) -> str:
    try:
        return response.text or ""
    except UnicodeDecodeError:
        # A PDF or an image: it names no ids as text.
        return ""


def _sent_as_a(case) -> bool:
    return (case.headers or {}).get("Authorization") == f"Bearer {TOKEN_A}"


def _b_is_a_user_of_a(case) -> bool:
    """Whether user A, fuzzing `POST /v1/users`, has made user B's email a user of account A.

    Then B is a member of A's account by A's own doing, and A's objects are B's to see.
    """
    url = f"{BASE_URL}/v1/users?limit=200"
    while url:
        page = requests.get(url, headers={"Authorization": f"Bearer {TOKEN_A}"}, timeout=30)
        if page.status_code != 200:
            return False
        body = page.json()
        if any(user.get("email") == EMAIL_B for user in body.get("items", [])):
            return True
        cursor = body.get("next_cursor")
        url = f"{BASE_URL}/v1/users?limit=200&cursor={cursor}" if cursor else ""
    return False


@schemathesis.check
def other_account_gets_404(ctx, response, case):
    """A path id that answered 2xx to user A is absent for user B of another account.

    DESIGN §2: 404 for an object "absent or belonging to another account", never 2xx and never
    403 (a 403 would confirm that the id exists). The replay is the very request A sent, with
    B's token instead of A's; it must change nothing, which the 404 promises.
    """
    if not 200 <= response.status_code < 300 or not _sent_as_a(case):
        return None
    owned = {name: value for name, value in (case.path_parameters or {}).items() if name not in SHARED_PATH_PARAMETERS}
    if not owned:
        return None
    replay = case.call(headers={"Authorization": f"Bearer {TOKEN_B}"})
    if replay.status_code != 404 and not _b_is_a_user_of_a(case):
        raise AssertionError(
            f"User B of another account got {replay.status_code} for {case.method} {case.formatted_path} "
            f"({', '.join(f'{k}={v}' for k, v in owned.items())}), which answered "
            f"{response.status_code} to user A; expected 404.\nBody: {_text(replay)[:500]}"
        )
    return None


@schemathesis.check
def no_object_of_account_b(ctx, response, case):
    """No response to user A names any object of account B (its account, directory, users, ...)."""
    if not _sent_as_a(case):
        return None
    text = _text(response)
    leaked = {value for value in B_IDS if value in text}
    # Ids A sent itself (a fuzzed path or body may carry any string) are echoed in problem
    # details; only what the server volunteers counts.
    sent = json.dumps(case.body, default=str) + case.formatted_path + json.dumps(case.query or {}, default=str)
    leaked = {found for found in leaked if found not in sent}
    if leaked:
        raise AssertionError(
            f"{case.method} {case.formatted_path} as user A answered {response.status_code} naming objects of "
            f"account B: {sorted(leaked)}"
        )
    return None


# Cursors the server handed out (`next_cursor`), the only ones a client can send. The schema
# cannot describe an opaque token's valid values: any other string is answered 400
# `invalid_cursor` by design, so schema-valid (positive) requests carry only issued cursors,
# and negative requests keep fuzzing the parameter.
ISSUED_CURSORS: set[str] = set()


@schemathesis.hook
def after_call(context, case, response):
    # Schemathesis keeps header names lower-cased, each with a list of values.
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/json"):
        return
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("next_cursor"), str):
        ISSUED_CURSORS.add(body["next_cursor"])


def _positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


@schemathesis.hook
def map_case(context, case):
    if not _positive(case):
        return case
    if case.query and "cursor" in case.query and case.query["cursor"] not in ISSUED_CURSORS:
        del case.query["cursor"]
    # An ETag the fuzzer makes up is stale by definition (412); `*` is the precondition "any
    # current version" (RFC 9110 13.1.1), so schema-valid writes reach the handler's own rules.
    if case.headers and "If-Match" in case.headers:
        case.headers["If-Match"] = "*"
    return case


@schemathesis.check
def rejection_names_its_field(ctx, response, case):
    """A schema-valid request refused with 400 names the rule it broke, field by field.

    Where schemathesis.toml lets a schema-valid request get 400 (rules JSON Schema cannot
    state), the answer must still be the documented `validation_failed` problem with field
    errors, not a bare or differently-coded 400.
    """
    if response.status_code != 400 or not _positive(case):
        return None
    try:
        problem = response.json()
    except ValueError:
        raise AssertionError("a 400 without a problem+json body") from None
    if case.operation.path == "/v1/oauth2/token":
        # RFC 6749 §5.2 fixes the token endpoint's error format.
        if not (isinstance(problem, dict) and problem.get("error") in ("invalid_request", "unsupported_grant_type")):
            raise AssertionError(f"The token endpoint's 400 is not an RFC 6749 error: {response.text[:300]}")
        return None
    if not isinstance(problem, dict):
        raise AssertionError(f"a 400 whose body is not a problem object: {_text(response)[:300]}")
    # A membership cancellation refunds money, so it requires the (otherwise optional) key:
    # a rule of one category the header's schema cannot state (DESIGN §2).
    if problem.get("code") == "idempotency_key_required":
        return None
    errors = problem.get("errors")
    if problem.get("code") not in ("validation_failed", "invalid_query_parameter") or not errors:
        raise AssertionError(
            f"A schema-valid request got 400 `{problem.get('code')}` without field errors: {response.text[:300]}"
        )
    return None

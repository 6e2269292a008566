"""Gives the live server two accounts in two directories, each with real objects.

Account A (a sandbox account, so the sandbox routes answer 2xx for it) is the fuzzing
identity; account B is a regular account whose objects user A must never reach. Every id
created here is written to the state file that hooks.py reads, so the custom checks know
B's ids and the fuzzer starts from real ids rather than random ones. The Schemathesis
configuration of the run is fuzz/schemathesis.toml plus those ids.

Usage: setup_accounts.py <base-url> <state-file> <config-in> <config-out> (tokens come from the environment:
PC_FUZZ_TOKEN_A, PC_FUZZ_TOKEN_B, PC_FUZZ_TOKEN_OPERATOR, PC_FUZZ_DIRECTORY_A/B).
"""

from __future__ import annotations

import json
import os
import sys
import uuid

import requests


class Setup:
    def __init__(self, base: str, token: str, label: str) -> None:
        self.base = base
        self.label = label
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: object | None = None, *, expect: int, key: str | None = None) -> dict:
        headers = {"Idempotency-Key": key} if key else {}
        reply = self.session.request(method, self.base + path, json=body, headers=headers, timeout=30)
        if reply.status_code != expect:
            sys.exit(f"fuzz setup ({self.label}): {method} {path} answered {reply.status_code}, expected {expect}: {reply.text}")
        return reply.json() if reply.content else {}


def account_body(name: str, domain: str, sandbox: bool) -> dict:
    return {
        "legal_name": f"{name} Ltd.",
        "address": {"line1": "1 Main Street", "city": "Redmond", "state_or_province": "WA", "postal_code": "98052"},
        "country": "US",
        "website": f"https://www.{domain}",
        "primary_contact": {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": f"owner@{domain}",
            "phone": "+1 425 555 0100",
        },
        "sandbox": sandbox,
    }


def populate(s: Setup, domain: str, sandbox: bool, operator: Setup) -> dict:
    """Creates the account and one or more of every kind of object a partner can create."""
    ids: dict[str, object] = {}
    account = s.call("POST", "/v1/accounts", account_body(s.label, domain, sandbox), expect=201, key=f"enroll-{s.label}")
    ids["account_id"] = account["id"]
    if sandbox:
        s.call("POST", "/v1/sandbox/verification", {"outcome": "verified"}, expect=200)
    else:
        operator.call("POST", f"/v1/operator/accounts/{account['id']}/verification", {"outcome": "verified"}, expect=200)
    ids["user_ids"] = [
        s.call("POST", "/v1/users", {"email": f"{who}@{domain}", "first_name": who.title(), "last_name": "Lee", "roles": roles}, expect=201)["id"]
        for who, roles in (("sam", ["billing_admin"]), ("kim", ["report_viewer"]))
    ]
    ids["app_id"] = s.call("POST", "/v1/apps", {"name": "Fuzz bot", "roles": ["account_admin"]}, expect=201)["app"]["client_id"]
    ids["support_request_id"] = s.call("POST", "/v1/support/requests", {"category": "technical", "title": "Fuzz request"}, expect=201)["id"]
    ids["webhook_id"] = s.call("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:9/{s.label}", "events": ["*"]}, expect=201)["id"]
    ids["partner_link_id"] = s.call("POST", "/v1/partner-links", {"kind": "pal", "customer_tenant_id": str(uuid.uuid4())}, expect=201)["id"]
    ids["offer_id"] = s.call("POST", "/v1/marketplace/offers", {"name": f"{s.label} Insights", "transactable": True}, expect=201)["id"]
    s.call("POST", "/v1/me/learning-profile", {"learn_id": f"learn-{s.label}"}, expect=201)
    # A paid card order: an invoice, benefits and an active membership.
    paid = s.call(
        "POST",
        "/v1/orders",
        {"program_id": "action_pack", "kind": "purchase", "payment_method": "credit_card", "card_token": "tok_test_approve", "benefit_pack": "maps"},
        expect=201,
        key=f"order-card-{s.label}",
    )
    ids["order_ids"] = [paid["id"]]
    ids["membership_ids"] = [m["id"] for m in s.call("GET", "/v1/memberships", expect=200)["items"]]
    ids["invoice_ids"] = [i["id"] for i in s.call("GET", "/v1/invoices", expect=200)["items"]]
    ids["benefit_ids"] = [b["id"] for b in s.call("GET", "/v1/benefits", expect=200)["items"]]
    ids["action_center_item_ids"] = [i["id"] for i in s.call("GET", "/v1/action-center/items", expect=200)["items"]]
    return ids


def main() -> None:
    base, state_path, config_in, config_path = sys.argv[1:5]
    with open(config_in, encoding="utf-8") as source:
        base_config = source.read()
    operator = Setup(base, os.environ["PC_FUZZ_TOKEN_OPERATOR"], "operator")
    a = Setup(base, os.environ["PC_FUZZ_TOKEN_A"], "alpha")
    b = Setup(base, os.environ["PC_FUZZ_TOKEN_B"], "bravo")
    state = {
        "a": populate(a, "alpha-fuzz.example", True, operator),
        "b": populate(b, "bravo-fuzz.example", False, operator),
    }
    state["a"]["directory_id"] = os.environ["PC_FUZZ_DIRECTORY_A"]
    state["b"]["directory_id"] = os.environ["PC_FUZZ_DIRECTORY_B"]
    with open(state_path, "w", encoding="utf-8") as out:
        json.dump(state, out, indent=2)
    # Real ids for the path parameters no fuzzed operation hands out (operators name accounts
    # and orders the partner side created): most cases use them, the rest stay random.
    a = state["a"]
    with open(config_path, "w", encoding="utf-8") as out:
        out.write(base_config)
        out.write("\n# Written by setup_accounts.py for this run.\n")
        for name, values in (("account_ids", [a["account_id"]]), ("order_ids", a["order_ids"])):
            out.write(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n\n")
        out.write("[parameters]\n")
        out.write('"path.account_id" = { dictionary = "account_ids", probability = 0.9 }\n')
        out.write('"path.order_id" = { dictionary = "order_ids", probability = 0.9 }\n')


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A sandbox partner from sign-up to a refunded Action Pack, through the generated Python client.

Every API call goes through `partner_center_client` (generated from openapi.yaml by
openapi-python-client): its models build the requests and parse the responses. The only other
thing used is the `partner-center token` command, which mints the bearer token (authentication
set-up, not an API call).

    PC_URL=http://127.0.0.1:8080 PC_BIN=target/debug/partner-center PC_JWT_SECRET=... python sdk/e2e.py

`sdk/run` (`make sdk`) starts a server and runs this against it. Exit status 0 when every step
held, 1 with the step and the reason otherwise.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import traceback
import uuid
from typing import Any, NoReturn, TypeVar

import attrs
import httpx
from partner_center_client import AuthenticatedClient, errors
from partner_center_client.api.accounts import create_account, get_account
from partner_center_client.api.benefits import list_benefits
from partner_center_client.api.billing import (
    create_order,
    get_invoice,
    get_invoice_pdf,
    get_order,
    get_refund_eligibility,
    list_invoices,
)
from partner_center_client.api.membership import get_membership
from partner_center_client.api.sandbox import (
    advance_sandbox_clock,
    get_sandbox_clock,
    sandbox_decide_verification,
    sandbox_record_completion,
)
from partner_center_client.api.skilling import link_my_learning_profile, list_skilling
from partner_center_client.api.support import create_support_request
from partner_center_client.models import (
    Account,
    AddressInput,
    AdvanceClockRequest,
    BenefitList,
    BenefitStatus,
    CompletionInput,
    CompletionKind,
    CompletionReceipt,
    CreateAccountInput,
    CreateOrderRequest,
    CreateSupportRequest,
    CreditStatus,
    Invoice,
    InvoiceKind,
    InvoiceList,
    LearningProfile,
    LinkLearningProfileRequest,
    Membership,
    MembershipStatus,
    Money,
    Order,
    OrderKind,
    OrderStatus,
    PaymentMethod,
    PrimaryContactInput,
    Problem,
    RefundEligibility,
    SandboxClock,
    SkillingCredit,
    SkillingCreditList,
    SupportCategory,
    SupportRequest,
    SupportStatus,
    VerificationDecision,
    VerificationOutcome,
    VerificationStatus,
)
from partner_center_client.types import File, Response, Unset

T = TypeVar("T")

SKILLING_LAG = datetime.timedelta(days=10)
REFUND_WINDOW = datetime.timedelta(days=30)
CREDENTIAL = "security_operations_analyst_associate"


class Failed(Exception):
    """A step did not hold."""


def fail(message: str) -> NoReturn:
    raise Failed(message)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def step(text: str) -> None:
    print(f"  - {text}", flush=True)


def undeclared(value: Any, path: str) -> list[str]:
    """Paths of fields the server sent that the spec does not declare.

    The generated models keep such fields in `additional_properties` instead of failing, so a
    response the spec under-describes would otherwise parse silently."""
    found: list[str] = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += undeclared(item, f"{path}[{index}]")
    elif attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        found += [f"{path}.{name}" for name in extra]
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += undeclared(getattr(value, field.name), f"{path}.{field.name}")
    return found


def differences(sent: Any, read: Any, path: str) -> list[str]:
    """Where the body the server sent and the generated model's own rendering of it disagree.

    A model that drops, renames or retypes a value (a field the spec declares with the wrong
    type, say) renders something else than it read. Instants compare as instants: the server
    writes `Z`, Python `+00:00`."""
    if isinstance(sent, dict) and isinstance(read, dict):
        found = [f"{path}.{key}: sent, not read" for key in sent.keys() - read.keys()]
        found += [f"{path}.{key}: read, not sent" for key in read.keys() - sent.keys()]
        for key in sent.keys() & read.keys():
            found += differences(sent[key], read[key], f"{path}.{key}")
        return found
    if isinstance(sent, list) and isinstance(read, list) and len(sent) == len(read):
        return [
            diff
            for index, pair in enumerate(zip(sent, read, strict=True))
            for diff in differences(*pair, f"{path}[{index}]")
        ]
    if isinstance(sent, str) and isinstance(read, str) and sent != read:
        try:
            if datetime.datetime.fromisoformat(sent) == datetime.datetime.fromisoformat(read):
                return []
        except ValueError:
            pass
    if sent != read or type(sent) is not type(read):
        return [f"{path}: sent {sent!r}, read {read!r}"]
    return []


def expect(status: int, response: Response[Any], kind: type[T], what: str) -> T:
    """The parsed body of `response`, which must have `status` and parse as `kind` with every
    field declared by the spec."""
    parsed = response.parsed
    if response.status_code != status:
        if isinstance(parsed, Problem):
            detail = f"{parsed.code}: {parsed.detail}"
            if not isinstance(parsed.checks, Unset):
                failed = [c.code for c in parsed.checks if not c.satisfied]
                detail += f" (failed checks: {', '.join(failed)})"
        else:
            detail = response.content[:300].decode("utf-8", "replace")
        fail(f"{what}: expected HTTP {status}, got {int(response.status_code)}: {detail}")
    if not isinstance(parsed, kind):
        fail(f"{what}: the client parsed the {status} response as {type(parsed).__name__}, not {kind.__name__}")
    extra = undeclared(parsed, kind.__name__)
    check(not extra, f"{what}: the response has fields the spec does not declare: {', '.join(extra)}")
    if hasattr(kind, "from_dict"):  # a JSON model, not a File
        lost = differences(json.loads(response.content), parsed.to_dict(), kind.__name__)  # type: ignore[attr-defined]
        check(not lost, f"{what}: the generated model does not read the response faithfully: {'; '.join(lost)}")
    return parsed


def money(value: Money) -> str:
    return f"{value.currency} {value.amount_minor / 100:.2f}"


def token(binary: str, directory: uuid.UUID, email: str) -> str:
    """A user token for `email` in `directory`, signed by `partner-center token` with the
    server's key (PC_JWT_SECRET in the environment)."""
    minted = subprocess.run(
        [binary, "token", "--directory", str(directory), "--email", email],
        capture_output=True,
        text=True,
        check=False,
    )
    if minted.returncode != 0:
        fail(f"partner-center token failed ({minted.returncode}): {minted.stderr.strip()}")
    return minted.stdout.strip()


def sandbox_now(client: AuthenticatedClient) -> datetime.datetime:
    return expect(200, get_sandbox_clock.sync_detailed(client=client), SandboxClock, "read the clock").now


def advance(client: AuthenticatedClient, days: int, seconds: int) -> datetime.datetime:
    body = AdvanceClockRequest(advance_days=days, advance_seconds=seconds)
    moved = advance_sandbox_clock.sync_detailed(client=client, body=body)
    return expect(200, moved, SandboxClock, f"advance the clock {days} d {seconds} s").now


def credits(client: AuthenticatedClient, status: CreditStatus) -> list[SkillingCredit]:
    listed = list_skilling.sync_detailed(client=client, status=status)
    return expect(200, listed, SkillingCreditList, f"list {status.value} skilling").items


def run(url: str, binary: str) -> None:
    directory = uuid.uuid4()
    owner = "jane.doe@contoso.com"
    client = AuthenticatedClient(base_url=url, token=token(binary, directory, owner), raise_on_unexpected_status=True)

    print("1. Sign up a sandbox account", flush=True)
    enrollment = CreateAccountInput(
        legal_name="Contoso Ltd.",
        address=AddressInput(line1="1 Microsoft Way", city="Redmond", state_or_province="WA", postal_code="98052"),
        country="US",
        website="https://www.contoso.com",
        primary_contact=PrimaryContactInput(first_name="Jane", last_name="Doe", email=owner, phone="+1 425 555 0100"),
        sandbox=True,
    )
    created = create_account.sync_detailed(client=client, body=enrollment, idempotency_key=str(uuid.uuid4()))
    account = expect(201, created, Account, "sign up")
    check(account.sandbox, "the account is not a sandbox")
    check(account.directory_id == directory, f"the account is in directory {account.directory_id}, not {directory}")
    check(
        account.verification.status == VerificationStatus.PENDING,
        f"verification is {account.verification.status}, not pending",
    )
    step(f"account {account.id}, PartnerID {account.partner_id}, verification pending")
    clock = expect(200, get_sandbox_clock.sync_detailed(client=client), SandboxClock, "read the clock")
    check(clock.now == clock.started_at, "a new sandbox clock has moved")
    step(f"sandbox clock frozen at {clock.now.isoformat()}")

    print("2. Get it verified (sandbox stand-in for the operator)", flush=True)
    decided = sandbox_decide_verification.sync_detailed(
        client=client, body=VerificationDecision(outcome=VerificationOutcome.VERIFIED)
    )
    check(
        expect(200, decided, Account, "verify").verification.status == VerificationStatus.VERIFIED,
        "the decision did not verify the account",
    )
    reread = expect(200, get_account.sync_detailed(client=client), Account, "read the account")
    check(reread.verification.status == VerificationStatus.VERIFIED, "the account does not read as verified")
    step("verification: verified")

    print("3. Link skilling: a Learn profile and a certification", flush=True)
    linked_at = sandbox_now(client)
    learn_id = f"mcid-{uuid.uuid4().hex[:12]}"
    linked = link_my_learning_profile.sync_detailed(client=client, body=LinkLearningProfileRequest(learn_id=learn_id))
    profile = expect(201, linked, LearningProfile, "link the Learn profile")
    current = profile.current
    check(
        not isinstance(current, Unset) and current is not None and current.learn_id == learn_id,
        f"the profile linked is {current}, not {learn_id}",
    )
    completed_at = linked_at - datetime.timedelta(days=3)
    completion = CompletionInput(
        learn_id=learn_id,
        kind=CompletionKind.CERTIFICATION,
        credential=CREDENTIAL,
        title="Security Operations Analyst Associate",
        completed_at=completed_at,
    )
    recorded = sandbox_record_completion.sync_detailed(client=client, body=completion)
    expect(201, recorded, CompletionReceipt, "record the certification")
    pending = credits(client, CreditStatus.PENDING)
    check(len(pending) == 1, f"{len(pending)} pending credits, not 1")
    # The lag runs from the later of linking and completing: the link, here.
    counts_from = pending[0].counts_from
    check(
        counts_from == linked_at + SKILLING_LAG,
        f"the credit counts from {counts_from.isoformat()}, not 10 days after the link ({linked_at.isoformat()})",
    )
    check(not credits(client, CreditStatus.COUNTED), "a credit counts before the lag")
    step(f"{learn_id} linked; {CREDENTIAL} pending, counts from {counts_from.isoformat()}")

    print("4. Wait out the 10-day skilling lag on the sandbox clock", flush=True)
    almost = advance(client, 9, 86_399)
    check(almost == counts_from - datetime.timedelta(seconds=1), f"the clock moved to {almost.isoformat()}")
    check(len(credits(client, CreditStatus.PENDING)) == 1, "the credit stopped pending a second before the lag")
    step(f"{almost.isoformat()}: still pending")
    now = advance(client, 0, 1)
    counted = credits(client, CreditStatus.COUNTED)
    check(len(counted) == 1 and counted[0].learn_id == learn_id, "the credit does not count at the end of the lag")
    check(not credits(client, CreditStatus.PENDING), "the credit is still pending after the lag")
    step(f"{now.isoformat()}: counted")

    print("5. Buy the Action Pack by card", flush=True)
    purchase = CreateOrderRequest(
        program_id="action_pack",
        kind=OrderKind.PURCHASE,
        payment_method=PaymentMethod.CREDIT_CARD,
        card_token="tok_test_approve",
        benefit_pack="maps",
    )
    order_key = str(uuid.uuid4())
    placed = create_order.sync_detailed(client=client, body=purchase, idempotency_key=order_key)
    order = expect(201, placed, Order, "place the order")
    check(order.status == OrderStatus.PAID, f"the order is {order.status}, not paid")
    check(order.total.amount_minor > 0, f"the Action Pack cost {money(order.total)}")
    check(
        order.subtotal.amount_minor + order.tax.amount_minor == order.total.amount_minor,
        "subtotal and tax do not add up to the total",
    )
    check(order.refunded.amount_minor == 0, f"a new order shows {money(order.refunded)} refunded")
    check(isinstance(order.membership_id, uuid.UUID), "the paid order has no membership")
    assert isinstance(order.membership_id, uuid.UUID)
    membership_id = order.membership_id
    step(f"order #{order.number} paid, {money(order.total)}")
    # A retry with the same key is answered with the first order, not a second charge.
    retried = create_order.sync_detailed(client=client, body=purchase, idempotency_key=order_key)
    replay = expect(201, retried, Order, "retry the order with its key")
    check(replay.id == order.id, "a retry with the same Idempotency-Key placed another order")
    check(retried.headers.get("idempotent-replayed") == "true", "the retry is not marked Idempotent-Replayed")
    step("a retry with the same Idempotency-Key replays it")
    membership = expect(
        200, get_membership.sync_detailed(membership_id, client=client), Membership, "read the membership"
    )
    check(membership.status == MembershipStatus.ACTIVE, f"the membership is {membership.status}, not active")
    check(membership.program_id == "action_pack", f"the membership is of {membership.program_id}")
    benefits = expect(
        200,
        list_benefits.sync_detailed(client=client, membership_id=membership_id),
        BenefitList,
        "list the benefits",
    ).items
    check(bool(benefits), "the membership granted no benefit")
    check(all(b.status == BenefitStatus.AVAILABLE for b in benefits), "a new benefit is not available")
    step(f"membership active with {len(benefits)} benefits")

    print("6. Read the invoice and its PDF", flush=True)
    documents = expect(200, list_invoices.sync_detailed(client=client), InvoiceList, "list invoices").items
    check(len(documents) == 1, f"{len(documents)} invoices after one purchase")
    invoice = expect(200, get_invoice.sync_detailed(documents[0].id, client=client), Invoice, "read the invoice")
    check(invoice.kind == InvoiceKind.INVOICE, f"the document is a {invoice.kind}")
    check(invoice.order_id == order.id, "the invoice is not the order's")
    check(invoice.total == order.total, f"the invoice totals {money(invoice.total)}, the order {money(order.total)}")
    check(invoice.buyer.legal_name == enrollment.legal_name, f"the invoice is made out to {invoice.buyer.legal_name}")
    check(invoice.buyer.partner_id == account.partner_id, "the invoice carries another PartnerID")
    pdf = read_pdf(client, invoice.id, invoice.number)
    step(f"{invoice.number}: {money(invoice.total)}, PDF {len(pdf)} bytes")

    print("7. Refund within 30 days, through a cancellation request", flush=True)
    paid_at = order.paid_at
    check(isinstance(paid_at, datetime.datetime), "the paid order has no paid_at")
    assert isinstance(paid_at, datetime.datetime)
    # Day 29 of the 30: late in the window, still inside it.
    now = advance(client, 29, 0)
    check(now <= paid_at + REFUND_WINDOW, "the clock passed the refund window")
    eligibility = expect(
        200,
        get_refund_eligibility.sync_detailed(order.id, client=client),
        RefundEligibility,
        "ask for refund eligibility",
    )
    check(
        eligibility.eligible,
        f"not refundable: {', '.join(c.code.value for c in eligibility.checks if not c.satisfied)}",
    )
    check(
        eligibility.refundable == order.total, f"refundable {money(eligibility.refundable)}, paid {money(order.total)}"
    )
    check(eligibility.window_ends_at == paid_at + REFUND_WINDOW, "the refund window does not end 30 days after payment")
    step(f"day 29: eligible for {money(eligibility.refundable)}")
    asked = create_support_request.sync_detailed(
        client=client,
        body=CreateSupportRequest(
            category=SupportCategory.MEMBERSHIP_CANCELLATION, title="Cancel our Action Pack", order_id=order.id
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    request = expect(201, asked, SupportRequest, "ask for the cancellation")
    check(request.status == SupportStatus.CLOSED, f"the cancellation request is {request.status}, not closed")
    decision = request.decision
    check(not isinstance(decision, Unset) and decision is not None, "the cancellation request carries no decision")
    assert decision is not None and not isinstance(decision, Unset)
    check(decision.granted, f"refused: {', '.join(c.code.value for c in decision.checks if not c.satisfied)}")
    refund = decision.refund
    check(not isinstance(refund, Unset) and refund is not None, "a granted cancellation without a refund")
    assert refund is not None and not isinstance(refund, Unset)
    check(refund.amount == order.total, f"refunded {money(refund.amount)} of {money(order.total)}")
    step(f"request #{request.number} closed, refund {money(refund.amount)} granted")

    refunded = expect(200, get_order.sync_detailed(order.id, client=client), Order, "read the order")
    check(refunded.status == OrderStatus.REFUNDED, f"the order is {refunded.status}, not refunded")
    check(refunded.refunded == order.total, f"the order shows {money(refunded.refunded)} refunded")
    cancelled = expect(
        200, get_membership.sync_detailed(membership_id, client=client), Membership, "reread the membership"
    )
    check(cancelled.status == MembershipStatus.CANCELLED, f"the membership is {cancelled.status}, not cancelled")
    revoked = expect(
        200,
        list_benefits.sync_detailed(client=client, membership_id=membership_id),
        BenefitList,
        "list the benefits after the refund",
    ).items
    check(len(revoked) == len(benefits), f"{len(revoked)} benefits after the refund, {len(benefits)} before")
    check(all(b.status == BenefitStatus.ENDED for b in revoked), "a benefit of the refunded membership has not ended")
    documents = expect(200, list_invoices.sync_detailed(client=client), InvoiceList, "list invoices").items
    notes = [d for d in documents if d.kind == InvoiceKind.CREDIT_NOTE]
    check(len(notes) == 1, f"{len(notes)} credit notes after one refund")
    note = notes[0]
    check(refund.credit_note_id == note.id, "the refund names another credit note")
    check(note.credits_invoice_id == invoice.id, "the credit note does not credit the invoice")
    check(note.total == order.total, f"the credit note is for {money(note.total)}")
    check(note.sequence == invoice.sequence + 1, "the credit note does not continue the numbering")
    note_pdf = read_pdf(client, note.id, note.number)
    check(invoice.number.encode() in note_pdf, "the credit note's PDF does not name the invoice it credits")
    step(f"order refunded {money(refunded.refunded)}; membership cancelled, benefits ended")
    step(f"{note.number} credits {invoice.number}, PDF {len(note_pdf)} bytes")


def read_pdf(client: AuthenticatedClient, invoice_id: uuid.UUID, number: str) -> bytes:
    """The document's PDF, checked to be one: the header, the trailer, a plausible size and its
    number in the (uncompressed) page content."""
    downloaded = get_invoice_pdf.sync_detailed(invoice_id, client=client)
    check(
        downloaded.headers.get("content-type", "").startswith("application/pdf"),
        f"{number}: the PDF is served as {downloaded.headers.get('content-type')}",
    )
    pdf = expect(200, downloaded, File, f"download {number} as PDF").payload.read()
    check(pdf.startswith(b"%PDF-"), f"{number}: no %PDF- header: {pdf[:16]!r}")
    check(b"%%EOF" in pdf[-32:], f"{number}: no %%EOF trailer")
    check(1_000 <= len(pdf) <= 1_000_000, f"{number}: a {len(pdf)}-byte PDF")
    check(f"({number})".encode() in pdf or number.encode() in pdf, f"{number}: the number is not in the PDF")
    return pdf


def main() -> int:
    url = os.environ.get("PC_URL", "http://127.0.0.1:8080")
    binary = os.environ.get("PC_BIN", "target/debug/partner-center")
    print(f"End-to-end through the generated client against {url}", flush=True)
    try:
        run(url, binary)
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    except errors.UnexpectedStatus as surprise:
        # A status the spec does not list for the operation.
        body = surprise.content[:300].decode("utf-8", "replace")
        print(f"FAILED: an undocumented HTTP {surprise.status_code}: {body}", file=sys.stderr, flush=True)
        return 1
    except (KeyError, TypeError, ValueError):
        # The generated models could not read a response: the spec and the service disagree.
        traceback.print_exc()
        print("FAILED: the generated client could not parse a response (traceback above)", file=sys.stderr, flush=True)
        return 1
    except httpx.HTTPError as unreachable:
        print(f"FAILED: {url}: {unreachable!r}", file=sys.stderr, flush=True)
        return 1
    print("OK: sign-up, verification, skilling lag, card purchase, invoice PDF and refund", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

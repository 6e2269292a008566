//! Invoices and credit notes: JSON and PDF.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, web};
use domain::access::Permission;
use domain::commerce::{InvoiceKind, format_amount};
use domain::ids::InvoiceId;
use persistence::repos::orders::{self, Invoice as InvoiceRecord};
use uuid::Uuid;

use crate::access;
use crate::auth::Authenticated;
use crate::billing::{self, SELLER};
use crate::db;
use crate::dto::account::DocumentBytes;
use crate::dto::commerce::{Invoice, InvoiceList, PageQuery};
use crate::error::{ApiError, ErrorCode};
use crate::extract::pagination::{page_request_keyed, page_response};
use crate::invoice_pdf::{self, InvoiceDocument};
use crate::state::AppState;

fn invoice_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "No invoice or credit note of the account has this id.",
    )
}

fn to_dto(invoice: &InvoiceRecord) -> Invoice {
    Invoice::new(invoice, billing::document_number(invoice), &SELLER)
}

/// List invoices and credit notes.
///
/// The account's documents in number order: invoices for paid orders and credit notes for
/// refunds share one gap-free numbering per account.
#[utoipa::path(
    tag = "Billing",
    operation_id = "list_invoices",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of documents.", body = InvoiceList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role` (billing needs `global_admin`, `account_admin`, `billing_admin` or `mpn_partner_admin`), `not_a_member` or `principal_not_allowed`."),
    ),
)]
#[get("/v1/invoices")]
pub async fn list_invoices(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request_keyed(query.limit, query.cursor.as_deref(), |key| {
        key.parse::<i64>().is_ok_and(|n| n > 0)
    })?;
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::BillingRead)?;
        Ok(orders::invoices(conn, &membership.scope, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| InvoiceList {
            items: page.items.iter().map(to_dto).collect(),
            next_cursor,
        },
    ))
}

/// The document and, for a credit note printed, the invoice it credits (one authorization,
/// one trip to the database).
async fn load(
    state: &AppState,
    caller: Authenticated,
    invoice_id: Uuid,
    with_credited: bool,
) -> Result<(InvoiceRecord, Option<InvoiceRecord>), ApiError> {
    let principal = caller.0;
    let id = InvoiceId::from_uuid(invoice_id);
    db::run(state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::BillingRead)?;
        let scope = &membership.scope;
        let invoice = orders::invoice(conn, scope, id)?.ok_or_else(invoice_not_found)?;
        let credited = match invoice.credits_invoice_id.filter(|_| with_credited) {
            Some(credited) => orders::invoice(conn, scope, credited)?,
            None => None,
        };
        Ok((invoice, credited))
    })
    .await
}

/// Read an invoice or credit note.
#[utoipa::path(
    tag = "Billing",
    operation_id = "get_invoice",
    params(("invoice_id" = Uuid, Path, description = "The document's id.")),
    responses(
        (status = 200, description = "The document.", body = Invoice),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No document of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/invoices/{invoice_id}")]
pub async fn get_invoice(
    state: web::Data<AppState>,
    caller: Authenticated,
    invoice_id: web::Path<Uuid>,
) -> Result<web::Json<Invoice>, ApiError> {
    let (invoice, _) = load(&state, caller, invoice_id.into_inner(), false).await?;
    Ok(web::Json(to_dto(&invoice)))
}

/// Download an invoice or credit note as PDF.
///
/// One A4 page: seller, buyer (legal name, address, PartnerID), lines, tax, total and payment
/// method; a credit note names the invoice it credits.
#[utoipa::path(
    tag = "Billing",
    operation_id = "get_invoice_pdf",
    params(("invoice_id" = Uuid, Path, description = "The document's id.")),
    responses(
        (status = 200, description = "The PDF.", content((DocumentBytes = "application/pdf"))),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No document of the caller's account has this id (`not_found`)."),
    ),
)]
#[get("/v1/invoices/{invoice_id}/pdf")]
pub async fn get_invoice_pdf(
    state: web::Data<AppState>,
    caller: Authenticated,
    invoice_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (invoice, credited) = load(&state, caller, invoice_id.into_inner(), true).await?;
    let credited = credited.map(|credited| billing::document_number(&credited));
    let number = billing::document_number(&invoice);
    let pdf = invoice_pdf::render(&document(&invoice, number.clone(), credited));
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/pdf"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{number}.pdf\""),
        ))
        .body(pdf))
}

fn document(invoice: &InvoiceRecord, number: String, credited: Option<String>) -> InvoiceDocument {
    let currency = &invoice.currency;
    let amount = |minor| format_amount(minor, currency);
    let mut buyer = vec![invoice.buyer.legal_name.clone()];
    buyer.extend(invoice.buyer.address.iter().cloned());
    InvoiceDocument {
        title: match invoice.kind {
            InvoiceKind::Invoice => "Invoice".into(),
            InvoiceKind::CreditNote => "Credit note".into(),
        },
        number,
        issued_on: invoice.issued_at.format("%Y-%m-%d").to_string(),
        references: credited.map(|credited| format!("Credits invoice {credited}")),
        seller: SELLER.iter().map(|line| (*line).to_owned()).collect(),
        buyer,
        partner_id: invoice.buyer.partner_id.clone(),
        lines: invoice
            .lines
            .iter()
            .map(|line| (line.description.clone(), amount(line.amount_minor)))
            .collect(),
        subtotal: amount(invoice.amounts.subtotal_minor),
        tax_label: format!("Tax ({}%)", percent(invoice.amounts.tax_rate_bps)),
        tax: amount(invoice.amounts.tax_minor),
        total: amount(invoice.amounts.total_minor),
        payment_method: match (&invoice.payment_method, &invoice.payment_reference) {
            (domain::commerce::PaymentMethod::CreditCard, _) => "Credit card".into(),
            (domain::commerce::PaymentMethod::WireTransfer, Some(reference)) => {
                format!("Wire transfer (reference {reference})")
            }
            (domain::commerce::PaymentMethod::WireTransfer, None) => "Wire transfer".into(),
        },
    }
}

/// Basis points as a percentage with the decimals it needs: 1900 -> 19, 825 -> 8.25.
fn percent(bps: u32) -> String {
    let whole = bps / 100;
    match bps % 100 {
        0 => whole.to_string(),
        cents if cents % 10 == 0 => format!("{whole}.{}", cents / 10),
        cents => format!("{whole}.{cents:02}"),
    }
}

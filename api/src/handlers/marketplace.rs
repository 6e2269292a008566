//! Commercial marketplace offers: create, publish, list. A published transactable offer is
//! what Marketplace Rewards requires.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use domain::access::Permission;
use domain::ids::OfferId;
use persistence::connection::write_transaction;
use persistence::repos::offers;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit;
use crate::auth::Authenticated;
use crate::clock;
use crate::db;
use crate::dto::marketplace::{CreateOfferRequest, Offer, OfferList};
use crate::dto::performance::ListQuery;
use crate::error::{ApiError, ErrorCode};
use crate::extract::json::{JsonBody, validate};
use crate::extract::pagination::{page_request, page_response};
use crate::state::AppState;

/// Create a marketplace offer.
///
/// A draft offer; publish it with `POST /v1/marketplace/offers/{offer_id}/publish`.
#[utoipa::path(
    tag = "Marketplace",
    operation_id = "create_marketplace_offer",
    request_body(content = CreateOfferRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The draft offer.", body = Offer, headers(
            ("Location" = String, description = "`/v1/marketplace/offers/{id}`."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
    ),
)]
#[post("/v1/marketplace/offers")]
pub async fn create_offer(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<CreateOfferRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let request = body.value;
    let wall = clock::now();
    let offer = db::run(&state, move |conn| {
        let name = validate(&request, |r| Ok(r.name.trim().to_owned()))?;
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::MarketplaceManage)?;
            let now = membership.now(wall);
            let offer = offers::create(conn, &membership.scope, &name, request.transactable, now)?;
            audit::record(
                conn,
                &membership.scope,
                &principal,
                "marketplace_offer.created",
                ("marketplace_offer", offer.id.to_string()),
                json!({"name": offer.name, "transactable": offer.transactable}),
                now,
            )?;
            Ok(offer)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/v1/marketplace/offers/{}", offer.id)))
        .json(Offer::from(&offer)))
}

/// List marketplace offers.
#[utoipa::path(
    tag = "Marketplace",
    operation_id = "list_marketplace_offers",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of offers, oldest first.", body = OfferList, headers(
            ("Link" = String, description = "`<...>; rel=\"next\"`: the next page, when there is one."),
        )),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
    ),
)]
#[get("/v1/marketplace/offers")]
pub async fn list_offers(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let page = db::read(&state, move |conn| {
        let membership = access::authorize(conn, &principal, Permission::MarketplaceManage)?;
        Ok(offers::list(conn, &membership.scope, &page)?)
    })
    .await?;
    Ok(page_response(
        &req,
        page.next_after.as_deref(),
        |next_cursor| OfferList {
            items: page.items.iter().map(Offer::from).collect(),
            next_cursor,
        },
    ))
}

/// Publish a marketplace offer.
///
/// Publishing a published offer changes nothing.
#[utoipa::path(
    tag = "Marketplace",
    operation_id = "publish_marketplace_offer",
    params(("offer_id" = Uuid, Path, description = "The offer's id.")),
    responses(
        (status = 200, description = "The published offer.", body = Offer),
        (status = 403, description = "`insufficient_role`, `not_a_member` or `principal_not_allowed`."),
        (status = 404, description = "No offer of the caller's account has this id (`not_found`)."),
    ),
)]
#[post("/v1/marketplace/offers/{offer_id}/publish")]
pub async fn publish_offer(
    state: web::Data<AppState>,
    caller: Authenticated,
    offer_id: web::Path<Uuid>,
) -> Result<web::Json<Offer>, ApiError> {
    let principal = caller.0;
    let id = OfferId::from_uuid(offer_id.into_inner());
    let wall = clock::now();
    let offer = db::run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let membership = access::authorize(conn, &principal, Permission::MarketplaceManage)?;
            let now = membership.now(wall);
            let before = offers::get(conn, &membership.scope, id)?.ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, "No offer of your account has this id.")
            })?;
            let after =
                offers::publish(conn, &membership.scope, id, now)?.unwrap_or(before.clone());
            if before.status != after.status {
                audit::record(
                    conn,
                    &membership.scope,
                    &principal,
                    "marketplace_offer.published",
                    ("marketplace_offer", after.id.to_string()),
                    json!({"transactable": after.transactable}),
                    now,
                )?;
            }
            Ok(after)
        })
    })
    .await?;
    Ok(web::Json(Offer::from(&offer)))
}

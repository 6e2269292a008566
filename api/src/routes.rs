//! The route list, registered once through utoipa-actix-web so the router and the OpenAPI
//! document come from the same calls, and the table the fallback uses to tell an unknown path
//! (404) from a known path with the wrong method (405 with `Allow`).

use actix_router::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::handlers::insights;
use crate::handlers::{
    accounts, action_center, apps, audit, benefits, health, invoices, marketplace, me, memberships,
    operator, orders, performance, programs, sandbox, search, skilling, support, users,
    verification, webhooks,
};

/// Every documented route. Each needs an entry in `access::ROUTE_ACCESS` too.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(apps::issue_token)
        .service(accounts::create_account)
        .service(accounts::get_account)
        .service(verification::get_legal_profile)
        .service(verification::update_legal_profile)
        .service(verification::get_verification)
        .service(verification::upload_evidence)
        .service(verification::get_evidence_content)
        .service(me::get_me)
        .service(me::get_my_access)
        .service(me::get_my_roles)
        .service(me::list_my_directories)
        .service(me::switch_directory)
        .service(users::list_roles)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::delete_user)
        .service(users::set_user_roles)
        .service(apps::list_apps)
        .service(apps::create_app)
        .service(apps::rotate_secret)
        .service(apps::delete_app)
        .service(action_center::list_items)
        .service(action_center::archive_item)
        .service(action_center::get_preferences)
        .service(action_center::update_preferences)
        .service(action_center::verify_contact_email)
        .service(action_center::resend_code)
        .service(audit::list_audit_records)
        .service(operator::list_accounts)
        .service(operator::get_account)
        .service(verification::decide_verification)
        .service(programs::list_programs)
        .service(programs::get_program)
        .service(programs::list_pricing)
        .service(programs::get_program_eligibility)
        .service(programs::list_eligibility)
        .service(programs::put_program)
        .service(programs::get_allow_list)
        .service(programs::put_allow_list)
        .service(memberships::create_membership)
        .service(memberships::list_memberships)
        .service(memberships::get_membership)
        .service(memberships::grant_membership)
        .service(memberships::create_application)
        .service(memberships::list_applications)
        .service(memberships::get_application)
        .service(memberships::operator_list_applications)
        .service(memberships::decide_application)
        .service(skilling::get_learning_profile)
        .service(skilling::link_learning_profile)
        .service(skilling::list_skilling)
        .service(skilling::record_completion)
        .service(skilling::sandbox_record_completion)
        .service(performance::create_partner_link)
        .service(performance::list_partner_links)
        .service(performance::delete_partner_link)
        .service(performance::operator_record_performance)
        .service(performance::sandbox_record_performance)
        .service(performance::get_scores)
        .service(marketplace::create_offer)
        .service(marketplace::list_offers)
        .service(marketplace::publish_offer)
        .service(sandbox::get_clock)
        .service(sandbox::advance_clock)
        .service(sandbox::decide_verification)
        .service(orders::create_order)
        .service(orders::list_orders)
        .service(orders::get_order)
        .service(orders::cancel_order)
        .service(orders::get_refund_eligibility)
        .service(orders::operator_record_wire)
        .service(orders::sandbox_record_wire)
        .service(invoices::list_invoices)
        .service(invoices::get_invoice)
        .service(invoices::get_invoice_pdf)
        .service(benefits::list_benefits)
        .service(benefits::get_benefit)
        .service(benefits::activate_benefit)
        .service(benefits::reveal_key)
        .service(support::create_support_request)
        .service(support::list_support_requests)
        .service(support::get_support_request)
        .service(support::update_support_request)
        .service(support::operator_reply)
        .service(webhooks::list_webhooks)
        .service(webhooks::create_webhook)
        .service(webhooks::get_webhook)
        .service(webhooks::update_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::rotate_webhook_secret)
        .service(webhooks::list_webhook_deliveries)
        .service(webhooks::redeliver_webhook_delivery)
        .service(search::search)
        .service(search::get_help_topic)
        .service(insights::get_membership_insights)
        .service(insights::export_insights);
}

/// Routes served outside the OpenAPI document (the document itself and its viewer).
pub const META_ROUTES: [&str; 4] = ["/openapi.json", "/openapi.yaml", "/docs", "/docs/{tail}*"];

pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (item.get.is_some(), Method::GET),
                    // Every GET route answers HEAD too (see request_context).
                    (item.get.is_some(), Method::HEAD),
                    (item.put.is_some(), Method::PUT),
                    (item.post.is_some(), Method::POST),
                    (item.delete.is_some(), Method::DELETE),
                    (item.patch.is_some(), Method::PATCH),
                    (item.options.is_some(), Method::OPTIONS),
                ]
                .into_iter()
                .filter_map(|(present, method)| present.then_some(method))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        routes.extend(
            META_ROUTES
                .iter()
                .map(|path| (ResourceDef::new(*path), vec![Method::GET, Method::HEAD])),
        );
        Self { routes }
    }

    /// The methods some route accepts at `path`; empty when no route has this path.
    pub fn allowed_methods(&self, path: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods.dedup();
        methods
    }
}

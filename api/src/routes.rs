//! The route list, registered once through utoipa-actix-web so the router and the OpenAPI
//! document come from the same calls, and the table the fallback uses to tell an unknown path
//! (404) from a known path with the wrong method (405 with `Allow`).

use actix_router::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::handlers::{accounts, health, me, operator};

/// Every documented route.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(accounts::create_account)
        .service(accounts::get_account)
        .service(me::get_me)
        .service(operator::list_accounts)
        .service(operator::get_account);
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

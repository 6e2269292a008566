//! The benchmark's baseline: what actix-web alone costs per request on this machine. One
//! route, `GET /` answering a small JSON object, with the service's worker count
//! (`PC_WORKERS`, default one per CPU) and bind setting (`PC_BIND`).

use actix_web::{App, HttpResponse, HttpServer, get};

#[get("/")]
async fn index() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "service": "baseline" }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("PC_BIND").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let workers = std::env::var("PC_WORKERS")
        .ok()
        .and_then(|w| w.parse::<usize>().ok())
        .filter(|w| *w > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    HttpServer::new(|| App::new().service(index))
        .workers(workers)
        .bind(bind)?
        .run()
        .await
}

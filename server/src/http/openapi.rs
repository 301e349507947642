//! `GET /api/openapi.json`: the Botpress endpoints' description plus the REST routes',
//! which come from the same registration that builds the router (`api::routes`).

use std::sync::OnceLock;

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;

/// The whole description, built once.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = super::botpress::BotpressDoc::openapi();
        document.merge(super::api::routes().router.into_openapi());
        document
    })
}

pub async fn serve() -> Json<&'static Document> {
    Json(document())
}

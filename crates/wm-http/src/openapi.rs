//! The OpenAPI document's frame: info, security scheme, tags. Paths and schemas come from the
//! route handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "WhiteMagic API", description = "Memory for AI agents: store memories, search them, and get prompt-ready context back.", license(name = "MIT")),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    tags(
        (name = "user", description = "Your account and API keys"),
        (name = "admin", description = "Operators: users and their keys"),
        (name = "health", description = "Health, readiness, version, metrics"),
        (name = "meta", description = "This documentation"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("wm_<env>_<32 base62>")
                    .description(Some("An API key: `Authorization: Bearer wm_prod_...`"))
                    .build(),
            ),
        );
    }
}

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
        (name = "memories", description = "Memories: store, list, search, context, consolidation, tags, stats, export/import"),
        (name = "admin", description = "Operators: users and their keys"),
        (name = "billing", description = "Provider webhooks (Stripe, Whop, RevenueCat) and the one-time key claim page"),
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

/// Document the errors every operation can produce, so each one lists them without repeating
/// them by hand: bodies can be malformed (400), too large (413), of the wrong type (415) or
/// invalid (422); secured routes can refuse the key (401) or the account (403); and any route
/// can meet an unavailable database (503) or an internal error (500).
pub fn document_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            let mut add = |code: &str, description: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| error(description).into());
            };
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if has_body {
                add("400", "Malformed JSON");
                add("413", "Request body too large");
                add("415", "Unsupported content type");
            }
            if has_body || has_params {
                add("422", "Invalid field (the message and `details.field` name it)");
            }
            if secured {
                add("401", "Missing, malformed, unknown, expired or revoked API key");
                add("403", "Not allowed: suspended account, or not an admin");
                add("429", "A rate limit of the plan is exhausted (`details.limit` names it); see `Retry-After`");
            }
            add("500", "Internal error (logged with the request id; no details are returned)");
            add("503", "A dependency (the database) is unavailable");
            if secured {
                document_rate_limit_headers(&mut op.responses);
            }
        }
    }
}

/// Every response of a metered (secured) operation carries the rate-limit headers; a 429 also
/// carries `Retry-After`.
fn document_rate_limit_headers(responses: &mut utoipa::openapi::Responses) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let header = |ty: Type, description: &str| {
        HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(ty)).description(Some(description)).build()
    };
    for (code, response) in responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if !(code.starts_with('2') || code == "429") {
            continue;
        }
        let headers = [
            ("X-RateLimit-Limit", header(Type::Integer, "The tightest limit's size (requests per its window)")),
            ("X-RateLimit-Remaining", header(Type::Integer, "Requests left under the tightest limit")),
            ("X-RateLimit-Reset", header(Type::Integer, "Unix seconds when the tightest limit restores quota")),
            ("RateLimit-Policy", header(Type::String, "IETF draft: quota `q` and window `w` of every limit")),
            ("RateLimit", header(Type::String, "IETF draft: remaining `r` and seconds to reset `t` per limit")),
        ];
        for (name, h) in headers {
            response.headers.entry(name.to_owned()).or_insert(h);
        }
        if code == "429" {
            let retry = header(Type::Integer, "Whole seconds (at least 1) until the request can succeed");
            response.headers.entry("Retry-After".to_owned()).or_insert(retry);
        }
    }
}

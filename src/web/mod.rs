//! The web dashboard: server-rendered pages (tera templates from `web/templates`, assets
//! from `web/static`, both embedded in the binary) under `/ui/`, with its own cookie login.
//!
//! Every route under `/ui/` passes through [`guard::require_session`] first, which lets
//! only the login page and the static assets through without a session: no session → redirect to the login page; a method
//! other than GET/HEAD without the session's CSRF token → 403, before any handler runs.
//! Handlers call the services (`services::functions`, the engine) exactly as the API does;
//! they never hold SQL strings or business rules.

mod aliases;
mod assets;
mod async_config;
mod buckets;
mod capacity_charts;
mod chart;
mod code;
mod concurrency;
mod config_tab;
mod cost;
mod create;
mod error;
mod esm_form;
mod form;
mod function_url;
mod functions;
mod guard;
mod http_apis;
mod iam;
mod layers;
pub mod login;
mod logs;
mod monitoring;
pub mod password;
mod queue_actions;
mod queue_create;
mod queues;
mod render;
mod schedules;
mod session;
mod settings;
mod test_tab;
mod traces;
mod triggers;
mod versions;
mod zipedit;
// issue 24: the console (roles, error pages, upload tokens in the body, drafts)
mod error_page;
mod handler_check;
mod logs_search;
mod multipart_csrf;
mod package;
mod plain;
pub mod recovery;
pub mod roles;
mod stash;
// issue 24: the code editor (CodeMirror), file actions, syntax check, go-to-line
mod code_files;
mod editor;
mod env_table;
mod error_links;
mod layer_picker;
mod syntax_check;
mod test_target;

use std::sync::Arc;

use actix_web::{web, HttpResponse};

pub use error::WebError;
pub use render::Renderer;
pub use session::Session;

/// State of the dashboard, shared by every worker.
pub struct WebState {
    pub render: Renderer,
}

impl WebState {
    /// Compiles the embedded templates.
    pub fn new() -> Result<WebState, String> {
        Ok(WebState {
            render: Renderer::new()?,
        })
    }
}

/// Shorthand for the dashboard state extractor.
pub type Web = web::Data<Arc<WebState>>;
/// Shorthand for the API state (services, engine) extractor.
pub type App = web::Data<Arc<crate::api::AppState>>;

/// Registers `/` (a redirect) and every `/ui/` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // `GET /` of a browser goes to the dashboard; a signed or query-protocol call to `/`
    // (`aws sts get-caller-identity` may send GET /?Action=…) is the API's.
    let browser = actix_web::guard::fn_guard(|ctx| !crate::api::is_aws_call(ctx.head()));
    cfg.route("/", web::get().guard(browser).to(to_dashboard))
        .route("/ui", web::get().to(to_dashboard))
        .route(
            "/favicon.ico",
            web::get()
                .guard(actix_web::guard::fn_guard(|ctx| {
                    !crate::api::is_aws_call(ctx.head())
                }))
                .to(assets::favicon),
        )
        .service(
            web::scope("/ui")
                .app_data(web::PayloadConfig::new(guard::MAX_FORM_BYTES))
                .wrap(actix_web::middleware::from_fn(guard::require_session))
                .wrap(guard::security_headers())
                .route("/static/{file}", web::get().to(assets::serve))
                .route("/login", web::get().to(login::form))
                .route("/login", web::post().to(login::submit))
                .route("/", web::get().to(to_functions))
                .route("/logout", web::post().to(login::logout))
                .route("/functions", web::get().to(functions::list))
                .route("/functions/new", web::get().to(create::form))
                .route("/functions/new", web::post().to(create::submit))
                .route("/functions/{name}", web::get().to(functions::show))
                .route(
                    "/functions/{name}/delete",
                    web::post().to(functions::delete),
                )
                .route("/functions/{name}/code", web::get().to(code::show))
                .route("/functions/{name}/code", web::post().to(code::deploy))
                .route("/functions/{name}/upload", web::post().to(code::upload))
                .route(
                    "/functions/{name}/files",
                    web::post().to(code_files::submit),
                )
                .route(
                    "/functions/{name}/package",
                    web::get().to(package::download),
                )
                .route("/functions/{name}/test", web::get().to(test_tab::show))
                .route("/functions/{name}/test", web::post().to(test_tab::submit))
                .route(
                    "/functions/{name}/configuration",
                    web::get().to(config_tab::show),
                )
                .route(
                    "/functions/{name}/configuration",
                    web::post().to(config_tab::save),
                )
                .route(
                    "/functions/{name}/async",
                    web::post().to(async_config::save),
                )
                .route(
                    "/functions/{name}/concurrency",
                    web::post().to(concurrency::save),
                )
                .route("/functions/{name}/versions", web::get().to(versions::show))
                .route(
                    "/functions/{name}/versions",
                    web::post().to(versions::submit),
                )
                .route("/functions/{name}/logs", web::get().to(logs::show))
                .route("/functions/{name}/logs/tail", web::get().to(logs::tail))
                .route(
                    "/functions/{name}/monitoring",
                    web::get().to(monitoring::show),
                )
                .route("/functions/{name}/traces", web::get().to(traces::show))
                .route("/functions/{name}/triggers", web::get().to(triggers::show))
                .route(
                    "/functions/{name}/triggers",
                    web::post().to(triggers::submit),
                )
                .route("/queues", web::get().to(queues::list))
                .route("/queues", web::post().to(queue_create::create))
                .route("/queues/{name}", web::get().to(queues::show))
                .route("/queues/{name}/send", web::post().to(queue_actions::send))
                .route("/queues/{name}/purge", web::post().to(queue_actions::purge))
                .route(
                    "/queues/{name}/delete",
                    web::post().to(queue_actions::delete),
                )
                .route(
                    "/queues/{name}/redrive",
                    web::post().to(queue_actions::redrive),
                )
                .route("/apis", web::get().to(http_apis::list))
                .route("/cost", web::get().to(cost::show))
                .route("/buckets", web::get().to(buckets::list))
                .route("/buckets", web::post().to(buckets::create))
                .route("/buckets/{bucket}", web::get().to(buckets::show))
                .route("/buckets/{bucket}/upload", web::post().to(buckets::upload))
                .route(
                    "/buckets/{bucket}/download",
                    web::get().to(buckets::download),
                )
                .route(
                    "/buckets/{bucket}/delete-object",
                    web::post().to(buckets::delete_object),
                )
                .route(
                    "/buckets/{bucket}/delete",
                    web::post().to(buckets::delete_bucket),
                )
                .route("/buckets/{bucket}/rules", web::post().to(buckets::rules))
                .route("/layers", web::get().to(layers::show))
                .route("/layers", web::post().to(layers::publish))
                .route("/layers/delete", web::post().to(layers::delete))
                .route("/schedules", web::get().to(schedules::show))
                .route("/schedules", web::post().to(schedules::create))
                .route("/schedules/preview", web::get().to(schedules::preview))
                .route("/schedules/state", web::post().to(schedules::set_state))
                .route("/schedules/delete", web::post().to(schedules::delete))
                .route("/roles", web::get().to(iam::list))
                .route("/roles", web::post().to(iam::create))
                .route("/roles/{name}", web::get().to(iam::show))
                .route(
                    "/functions/{name}/permissions",
                    web::get().to(iam::function_permissions),
                )
                .route("/settings", web::get().to(settings::show))
                .route("/settings", web::post().to(settings::submit))
                .default_service(web::to(not_found)),
        );
}

async fn to_dashboard() -> HttpResponse {
    redirect("/ui/functions")
}

async fn to_functions() -> HttpResponse {
    redirect("/ui/functions")
}

async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound("There is no such page.".into()))
}

/// A 303 redirect (after a form post, the browser follows it with a GET).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to.to_string()))
        .finish()
}

/// Characters left as they are in a path segment or query value (RFC 3986 unreserved).
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// `2026-01-15 10:20:30 UTC` for a millisecond timestamp.
pub fn fmt_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&fmt).unwrap_or_default()
}

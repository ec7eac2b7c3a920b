//! The embedded templates and static files. Everything the browser loads comes from the
//! binary: no CDN, no files next to it.

use actix_web::{web, HttpResponse};

/// (name, source) of every template in `web/templates`.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../web/templates/base.html")),
    (
        "iam_roles.html",
        include_str!("../../web/templates/iam_roles.html"),
    ),
    (
        "iam_role.html",
        include_str!("../../web/templates/iam_role.html"),
    ),
    (
        "iam_permissions.html",
        include_str!("../../web/templates/iam_permissions.html"),
    ),
    (
        "async_form.html",
        include_str!("../../web/templates/async_form.html"),
    ),
    (
        "async_queue.html",
        include_str!("../../web/templates/async_queue.html"),
    ),
    (
        "macros.html",
        include_str!("../../web/templates/macros.html"),
    ),
    ("login.html", include_str!("../../web/templates/login.html")),
    (
        "http_apis.html",
        include_str!("../../web/templates/http_apis.html"),
    ),
    (
        "functions.html",
        include_str!("../../web/templates/functions.html"),
    ),
    (
        "create.html",
        include_str!("../../web/templates/create.html"),
    ),
    (
        "function.html",
        include_str!("../../web/templates/function.html"),
    ),
    ("code.html", include_str!("../../web/templates/code.html")),
    ("test.html", include_str!("../../web/templates/test.html")),
    (
        "configuration.html",
        include_str!("../../web/templates/configuration.html"),
    ),
    (
        "versions.html",
        include_str!("../../web/templates/versions.html"),
    ),
    ("logs.html", include_str!("../../web/templates/logs.html")),
    (
        "monitoring.html",
        include_str!("../../web/templates/monitoring.html"),
    ),
    (
        "traces.html",
        include_str!("../../web/templates/traces.html"),
    ),
    ("cost.html", include_str!("../../web/templates/cost.html")),
    (
        "triggers.html",
        include_str!("../../web/templates/triggers.html"),
    ),
    (
        "layers.html",
        include_str!("../../web/templates/layers.html"),
    ),
    (
        "settings.html",
        include_str!("../../web/templates/settings.html"),
    ),
    (
        "schedules.html",
        include_str!("../../web/templates/schedules.html"),
    ),
    (
        "trigger_rules.html",
        include_str!("../../web/templates/trigger_rules.html"),
    ),
    (
        "queues.html",
        include_str!("../../web/templates/queues.html"),
    ),
    ("queue.html", include_str!("../../web/templates/queue.html")),
    (
        "buckets.html",
        include_str!("../../web/templates/buckets.html"),
    ),
    (
        "bucket.html",
        include_str!("../../web/templates/bucket.html"),
    ),
    ("error.html", include_str!("../../web/templates/error.html")),
];

/// (file name, content type, bytes) of every file in `web/static`.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../web/static/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/app.js"),
    ),
    (
        "schedules.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/schedules.js"),
    ),
    (
        "editor.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/editor.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../web/static/favicon.svg"),
    ),
];

/// `GET /ui/static/{file}`: public (they reveal nothing), cached for a day.
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    named(file.as_str())
}

/// `GET /favicon.ico` (browsers ask for it on any page, error pages too): the SVG icon.
pub async fn favicon() -> HttpResponse {
    named("favicon.svg")
}

fn named(file: &str) -> HttpResponse {
    match STATIC.iter().find(|(n, _, _)| *n == file) {
        Some((_, ct, body)) => HttpResponse::Ok()
            .content_type(*ct)
            .insert_header(("Cache-Control", "public, max-age=86400"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("not found\n"),
    }
}

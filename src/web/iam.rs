//! The Roles pages: every IAM role with what it may do, a role's trust policy, inline and
//! attached policies and live sessions, creating a role for Lambda from a template, the
//! managed policies (AWS built-ins and customer managed) with their documents, and a
//! function's execution role with its effective permissions and network mode. Reads and
//! writes through `services::iam` exactly as the IAM API does.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::form::Form;
use super::login::current;
use super::{enc, fmt_time, redirect, App, Web, WebError};
use crate::domain::arn::FunctionRef;
use crate::domain::iam::{role_arn, role_name_of, IamError};
use crate::services::iam::sessions::Origin;
use crate::services::iam::{execution, managed, now_ms, policies, roles};

impl From<IamError> for WebError {
    fn from(e: IamError) -> Self {
        match e {
            IamError::NoSuchEntity(m) => WebError::NotFound(m),
            IamError::Service(m) | IamError::Unavailable(m) => WebError::Internal(m),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

/// The trust policy every template role gets: Lambda may assume it.
const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Role templates: (id, label, attached AWS managed policies, inline policy).
const TEMPLATES: &[(&str, &str, &[&str], Option<&str>)] = &[
    (
        "basic",
        "Basic execution (logs only)",
        &["AWSLambdaBasicExecutionRole"],
        None,
    ),
    (
        "invoke",
        "Basic execution + invoke other functions",
        &["AWSLambdaBasicExecutionRole", "AWSLambdaRole"],
        None,
    ),
    (
        "sqs",
        "SQS poller (receive, delete, attributes + logs)",
        &["AWSLambdaSQSQueueExecutionRole"],
        None,
    ),
    (
        "s3-read",
        "Basic execution + read every bucket",
        &["AWSLambdaBasicExecutionRole", "AmazonS3ReadOnlyAccess"],
        None,
    ),
    (
        "bucket-read",
        "Logs + read objects of one bucket (edit the bucket name after creating)",
        &[],
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-bucket/*"}]}"#,
        ),
    ),
];

#[derive(Serialize)]
struct RoleRow {
    name: String,
    arn: String,
    created: String,
    description: String,
    link: String,
}

#[derive(Serialize)]
struct PolicyRow {
    name: String,
    arn: String,
    aws: bool,
    attachments: i64,
    description: String,
    document: String,
}

#[derive(Serialize)]
struct TemplateView {
    id: &'static str,
    label: &'static str,
}

fn pretty(doc: &str) -> String {
    serde_json::from_str::<serde_json::Value>(doc)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| doc.to_string())
}

/// `GET /ui/roles`
pub async fn list(app: App, web: Web, req: HttpRequest) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let account = app.ctx.identity.account_id.clone();
    let rows: Vec<RoleRow> = roles::list(&app.ctx, None)
        .await?
        .into_iter()
        .map(|r| RoleRow {
            arn: role_arn(&account, &r.path, &r.name),
            created: fmt_time(r.created_ms),
            link: format!("/ui/roles/{}", enc(&r.name)),
            description: r.description,
            name: r.name,
        })
        .collect();
    let mut pols = Vec::new();
    for p in policies::list(&app.ctx, "All", false, None).await? {
        let document = policies::document(&app.ctx, &p.arn)
            .await?
            .map(|d| pretty(&d))
            .unwrap_or_default();
        pols.push(PolicyRow {
            name: p.name,
            arn: p.arn,
            aws: p.aws_managed,
            attachments: p.attachment_count,
            description: p.description,
            document,
        });
    }
    let sessions = app.ctx.iam.sessions.list(now_ms()).len();
    let templates: Vec<TemplateView> = TEMPLATES
        .iter()
        .map(|(id, label, _, _)| TemplateView { id, label })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "roles");
    ctx.insert("roles", &rows);
    ctx.insert("policies", &pols);
    ctx.insert("templates", &templates);
    ctx.insert("sessions", &sessions);
    ctx.insert("strict", &app.ctx.config.iam.strict_roles);
    web.render.page("iam_roles.html", Some(&s), ctx)
}

/// `POST /ui/roles`: a role for Lambda from a template.
pub async fn create(
    app: App,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    current(&req)?;
    let f = Form::urlencoded(&body)?;
    let name = f.get("name").trim().to_string();
    let Some((_, _, attach, inline)) = TEMPLATES.iter().find(|(id, ..)| *id == f.get("template"))
    else {
        return Err(WebError::BadRequest(
            "Choose one of the role templates.".into(),
        ));
    };
    roles::create(
        &app.ctx,
        roles::NewRole {
            name: name.clone(),
            trust_policy: LAMBDA_TRUST.into(),
            description: Some(f.get("description").to_string()).filter(|d| !d.is_empty()),
            ..roles::NewRole::default()
        },
    )
    .await?;
    for policy in attach.iter() {
        if let Some(b) = managed::BUILTINS.iter().find(|b| b.name == *policy) {
            roles::attach(&app.ctx, &name, &b.arn()).await?;
        }
    }
    if let Some(doc) = inline {
        roles::put_policy(&app.ctx, &name, "inline", doc).await?;
    }
    Ok(redirect(&format!("/ui/roles/{}", enc(&name))))
}

#[derive(Serialize)]
struct Named {
    name: String,
    arn: String,
    document: String,
}

#[derive(Serialize)]
struct SessionRow {
    name: String,
    kind: String,
    issued: String,
    expires: String,
}

/// `GET /ui/roles/{name}`
pub async fn show(
    app: App,
    web: Web,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let name = path.into_inner();
    let r = roles::get(&app.ctx, &name).await?;
    let account = app.ctx.identity.account_id.clone();
    let mut inline = Vec::new();
    for p in roles::list_policies(&app.ctx, &r.name).await? {
        let (pn, doc) = roles::get_policy(&app.ctx, &r.name, &p).await?;
        inline.push(Named {
            name: pn,
            arn: String::new(),
            document: pretty(&doc),
        });
    }
    let mut attached = Vec::new();
    for (pn, arn) in roles::list_attached(&app.ctx, &r.name).await? {
        let document = policies::document(&app.ctx, &arn)
            .await?
            .map(|d| pretty(&d))
            .unwrap_or_default();
        attached.push(Named {
            name: pn,
            arn,
            document,
        });
    }
    let sessions: Vec<SessionRow> = app
        .ctx
        .iam
        .sessions
        .list(now_ms())
        .into_iter()
        .filter(|x| x.role_name.eq_ignore_ascii_case(&r.name))
        .map(|x| SessionRow {
            name: x.session_name.clone(),
            kind: match &x.origin {
                Origin::Assumed { .. } => "AssumeRole".into(),
                Origin::Execution { env_id, .. } => format!("execution environment {env_id}"),
            },
            issued: fmt_time(x.issued_ms),
            expires: fmt_time(x.expires_ms),
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "roles");
    ctx.insert("name", &r.name);
    ctx.insert("arn", &role_arn(&account, &r.path, &r.name));
    ctx.insert("description", &r.description);
    ctx.insert("created", &fmt_time(r.created_ms));
    ctx.insert("trust", &pretty(&r.trust_policy));
    ctx.insert("inline", &inline);
    ctx.insert("attached", &attached);
    ctx.insert("sessions", &sessions);
    web.render.page("iam_role.html", Some(&s), ctx)
}

#[derive(Deserialize)]
pub struct FunctionPath {
    name: String,
}

/// `GET /ui/functions/{name}/permissions`: the execution role, what it allows, and the
/// network the function's environments get.
pub async fn function_permissions(
    app: App,
    web: Web,
    req: HttpRequest,
    path: web::Path<FunctionPath>,
) -> Result<HttpResponse, WebError> {
    let s = current(&req)?;
    let fname = path.into_inner().name;
    let found = crate::services::functions::get(
        &app.ctx,
        &FunctionRef {
            name: fname.clone(),
            qualifier: None,
        },
    )
    .await?;
    let config = &found.version.config;
    let arn = app.ctx.identity.function_arn(&fname);
    let problem = execution::role_problem(&app.ctx, &config.role, &arn).await;
    let mut statements = Vec::new();
    let mut role_link = None;
    match &problem {
        None => {
            if let Some(rn) = role_name_of(&config.role, &app.ctx.identity.account_id) {
                role_link = Some(format!("/ui/roles/{}", enc(&rn)));
                for p in roles::list_policies(&app.ctx, &rn).await? {
                    let (pn, doc) = roles::get_policy(&app.ctx, &rn, &p).await?;
                    statements.push(Named {
                        name: format!("{pn} (inline)"),
                        arn: String::new(),
                        document: pretty(&doc),
                    });
                }
                for (pn, parn) in roles::list_attached(&app.ctx, &rn).await? {
                    let document = policies::document(&app.ctx, &parn)
                        .await?
                        .map(|d| pretty(&d))
                        .unwrap_or_default();
                    statements.push(Named {
                        name: pn,
                        arn: parn,
                        document,
                    });
                }
            }
        }
        Some(_) => {
            let b = managed::basic_execution();
            statements.push(Named {
                name: b.name.into(),
                arn: b.arn(),
                document: pretty(b.document),
            });
        }
    }
    let sb = &app.ctx.config.sandbox;
    let network = crate::netconfig::describe(
        crate::netconfig::policy(
            &sb.default_network,
            &sb.subnets,
            &sb.security_groups,
            &config.vpc.subnet_ids,
            &config.vpc.security_group_ids,
        )
        .as_ref(),
    );
    let mut ctx = tera::Context::new();
    ctx.insert("nav", "functions");
    ctx.insert("function", &fname);
    ctx.insert("function_link", &format!("/ui/functions/{}", enc(&fname)));
    ctx.insert("role", &config.role);
    ctx.insert("role_link", &role_link);
    ctx.insert("problem", &problem);
    ctx.insert("statements", &statements);
    ctx.insert("network", &network);
    ctx.insert("subnets", &config.vpc.subnet_ids.join(", "));
    ctx.insert("sandbox_api", &app.ctx.config.iam.sandbox_api);
    web.render.page("iam_permissions.html", Some(&s), ctx)
}

//! `lambdabox serve`: prepares the data directory, the store, the credentials and the
//! runtime catalog, then runs the HTTP server until SIGTERM or SIGINT.
//!
//! Start-up order: data dir (0700) → database (migrations) → dashboard templates →
//! admin credentials and the dashboard's first admin on first start → runtime detection →
//! bind → print `listening on http://HOST:PORT` → serve.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::signal::unix::{signal, SignalKind};

use crate::api::{self, AppState};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::domain::function::now_ms;
use crate::domain::Identity;
use crate::engine::Engine;
use crate::sandbox::{Sandbox, SandboxSettings};
use crate::services::Context;
use crate::store::{keys, Store};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "lambdabox.db";
/// File name of the generated admin credentials (AWS shared-credentials format).
pub const CREDENTIALS_FILE: &str = "admin-credentials";
/// File name of the AWS CLI config file that names the region.
pub const AWS_CONFIG_FILE: &str = "aws-config";

/// Creates the data directory (owner-only) and opens the database.
pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict permissions of {}", dir.display()))?;
    let db = dir.join(DB_FILE);
    match crate::backup::schema_version(&db)? {
        Some(v) if v > crate::store::SCHEMA_VERSION => anyhow::bail!(
            "{} has schema {v}, newer than this lambdabox knows (up to {}): it was written by a newer \
             lambdabox. Install that version again, or restore a backup made before the upgrade: \
             lambdabox restore --from {}/pre-upgrade-...zip --data-dir {} --force",
            db.display(),
            crate::store::SCHEMA_VERSION,
            config.backup.dir(dir).display(),
            dir.display()
        ),
        Some(v) if v > 0 && v < crate::store::SCHEMA_VERSION => {
            let to = config.backup.dir(dir).join(crate::backup::scheduled::archive_name(&format!(
                "pre-upgrade-v{v}-to-v{}-",
                crate::store::SCHEMA_VERSION
            )));
            crate::backup::create(dir, &to).with_context(|| {
                format!("cannot back up {} before upgrading its schema; nothing was changed", db.display())
            })?;
            tracing::info!(archive = %to.display(), from = v, to = crate::store::SCHEMA_VERSION, "backed up the data directory before migrating");
        }
        _ => {}
    }
    let store = Store::open(&db)?;
    Ok(store)
}

/// Creates an admin key pair.
pub fn create_key(store: &Store, description: &str) -> anyhow::Result<keys::NewKey> {
    Ok(store.call_blocking(|c| keys::create(c, description, "admin", now_ms()))?)
}

/// Creates a key whose calls `policy` (an IAM identity policy document) decides.
pub fn create_scoped_key(
    store: &Store,
    description: &str,
    policy: &str,
) -> anyhow::Result<keys::NewKey> {
    use crate::domain::policy::{Document, Kind};
    Document::parse(policy, Kind::Identity)
        .map_err(|e| anyhow::anyhow!("the key's policy is not a valid IAM policy: {e}"))?;
    Ok(store.call_blocking(|c| keys::create_scoped(c, description, policy, now_ms()))?)
}

/// Lists keys.
pub fn list_keys(store: &Store) -> anyhow::Result<Vec<keys::KeyInfo>> {
    Ok(store.call_blocking(|c| keys::list(c))?)
}

/// Revokes a key.
pub fn revoke_key(store: &Store, id: &str) -> anyhow::Result<bool> {
    Ok(store.call_blocking(|c| keys::revoke(c, id, now_ms()))?)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// On first start (no key at all), creates the admin key and writes it to the data dir.
fn ensure_admin_credentials(store: &Store, config: &Config) -> anyhow::Result<PathBuf> {
    let path = config.data_dir.join(CREDENTIALS_FILE);
    let has_keys = store.call_blocking(|c| Ok(!keys::list(c)?.is_empty()))?;
    if !has_keys {
        let key = create_key(store, "admin key created on first start")?;
        write_private(
            &path,
            &format!(
                "# lambdabox admin credentials, created on first start.\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                key.access_key_id, key.secret
            ),
        )?;
        tracing::info!(access_key_id = %key.access_key_id, file = %path.display(), "created the admin access key");
    }
    write_private(
        &config.data_dir.join(AWS_CONFIG_FILE),
        &format!("[default]\nregion = {}\n", config.region),
    )?;
    Ok(path)
}

/// The cgroup under which this daemon's environments live: the configured name plus a digest
/// of the data directory, so that two daemons on one host never sweep each other's
/// environments, while a daemon restarted on the same data directory sweeps its own leftovers.
pub fn cgroup_parent(config: &Config) -> String {
    let dir = std::fs::canonicalize(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
    let digest = crate::store::blobs::sha256_hex(dir.as_os_str().as_encoded_bytes());
    format!("{}-{}", config.sandbox.cgroup_parent, &digest[..8])
}

/// Sets up internet-only networking when any function may use it (the default network, or
/// an internet subnet); a failure is logged and such functions fail with the reason.
fn enable_internet(config: &Config, sandbox: &mut Sandbox) {
    let sb = &config.sandbox;
    let wanted =
        sb.default_network == "internet" || sb.subnets.values().any(|s| s.mode() == "internet");
    if !wanted {
        return;
    }
    let mut dns_servers = crate::netconfig::dns_servers(&sb.dns_servers).unwrap_or_default();
    if dns_servers.is_empty() {
        dns_servers = crate::sandbox::network::host_nameservers();
    }
    let settings = crate::sandbox::network::InternetSettings { dns_servers };
    let servers: Vec<String> = settings
        .dns_servers
        .iter()
        .map(ToString::to_string)
        .collect();
    match sandbox.enable_internet(settings) {
        Ok(()) => tracing::info!(dns = %servers.join(", "), "internet-only networking ready"),
        Err(e) => {
            tracing::error!(error = %e, "internet-only networking is unavailable: functions that use it (sandbox.default_network = \"internet\", internet subnets) cannot start; `lambdabox doctor` lists what is missing")
        }
    }
}

/// Sets up the sandbox and logs which protections are active. A host that cannot sandbox
/// still serves the API; invocations then explain what is missing.
fn start_sandbox(config: &Config) -> Result<Sandbox, String> {
    let settings = SandboxSettings {
        uid_range: (config.sandbox.uid_min, config.sandbox.uid_max),
        cgroup_parent: cgroup_parent(config),
        allow_degraded: config.sandbox.allow_degraded,
        state_dir: config.data_dir.join("sandbox"),
    };
    match Sandbox::new(settings) {
        Ok(mut sandbox) => {
            enable_internet(config, &mut sandbox);
            let p = sandbox.protections();
            tracing::info!(protections = %p, "sandbox ready");
            if config.sandbox.allow_degraded && !p.missing.is_empty() {
                for m in &p.missing {
                    tracing::warn!(missing = %m, "sandbox.allow_degraded is set: running functions WITHOUT this protection");
                }
            }
            Ok(sandbox)
        }
        Err(e) => {
            tracing::error!(error = %e, "functions cannot run: the sandbox is unavailable. Fix the kernel setup or set sandbox.allow_degraded = true");
            Err(e.to_string())
        }
    }
}

/// Runs the daemon until a termination signal.
pub fn run(config: Config) -> anyhow::Result<()> {
    match crate::sandbox::raise_nofile_limit() {
        Ok(n) => tracing::debug!(limit = n, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let _lock = crate::lock::acquire(&config.data_dir)?;
    let store = open_store(&config)?;
    // A relative --data-dir (the default `data`) is made absolute once it exists: execution
    // environments bind-mount paths under it and the sandbox accepts only absolute ones.
    let mut config = config;
    config.data_dir = std::fs::canonicalize(&config.data_dir)
        .with_context(|| format!("cannot resolve {}", config.data_dir.display()))?;
    let credentials = ensure_admin_credentials(&store, &config)?;
    let web_state = Arc::new(crate::web::WebState::new().map_err(anyhow::Error::msg)?);
    crate::web::login::ensure_first_admin(&store, &config.data_dir, write_private)?;
    let catalog = Catalog::detect(&config.runtimes);
    for r in catalog.all() {
        match &r.interpreter {
            Some(p) => {
                tracing::info!(runtime = %r.id, interpreter = %p.display(), source = r.source, "runtime available")
            }
            None => tracing::info!(runtime = %r.id, "runtime available (custom bootstrap)"),
        }
    }
    let download_key = store.call_blocking(|c| {
        keys::meta_get_or_init(c, "download_signing_key", || {
            use rand::RngCore;
            let mut k = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut k);
            hex::encode(k)
        })
    })?;
    let identity = Identity {
        region: config.region.clone(),
        account_id: config.account_id.clone(),
    };
    let log_store = crate::store::logs::open(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot open the log database: {e}"))?;
    let ctx = Context::new(
        store.clone(),
        log_store,
        identity,
        Arc::new(catalog),
        Arc::new(config.clone()),
    );
    let sandbox = start_sandbox(&config);
    let engine_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("engine")
        .enable_all()
        .build()
        .context("cannot start the engine runtime")?;
    let engine = Engine::start(ctx.clone(), sandbox, engine_rt.handle().clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sqs = crate::services::sqs::Queues::open(ctx.identity.clone(), &config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot open the queue database: {e}"))?;
    engine_rt.spawn(crate::services::sqs::housekeeping::run(Arc::downgrade(
        &sqs,
    )));
    {
        let sqs = sqs.clone();
        engine_rt.spawn(async move { sqs.resume_moves().await });
    }
    ctx.destinations.register(Arc::new(
        crate::services::sqs::destination::SqsDestination::new(Arc::downgrade(&sqs)),
    ));
    let pollers = crate::triggers::esm::Pollers::start(
        ctx.clone(),
        engine.clone(),
        sqs.clone(),
        engine_rt.handle().clone(),
    );
    let async_invoke = crate::triggers::async_invoke::AsyncInvoke::start(
        ctx.clone(),
        engine.clone(),
        engine_rt.handle().clone(),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the asynchronous invocation queue: {e}"))?;
    let scheduler = crate::scheduler::Scheduler::start(
        ctx.clone(),
        Arc::new(crate::scheduler::delivery::QueueDelivery {
            ctx: ctx.clone(),
            queue: async_invoke.clone(),
        }),
        engine_rt.handle(),
    );
    if config.scheduler.test_clock {
        tracing::warn!("scheduler.test_clock is set: signed callers can move the scheduler's clock (tests only)");
    }
    let s3 = crate::services::s3::S3::open(ctx.clone(), async_invoke.clone(), sqs.clone())
        .map_err(|e| anyhow::anyhow!("cannot open the object store: {e}"))?;
    let state = Arc::new(AppState {
        s3,
        scheduler,
        auth: api::auth::Authenticator::new(store, config.region.clone())
            .with_sessions(ctx.iam.sessions.clone()),
        sqs: sqs.clone(),
        pollers: pollers.clone(),
        downloads: api::download::Downloads::new(download_key.into_bytes()),
        engine: engine.clone(),
        async_invoke: async_invoke.clone(),
        budget: api::body::BodyBudget::new(config.server.body_budget_bytes()),
        ctx,
    });
    let scheduler_handle = state.scheduler.clone();
    let _backups = config.backup.interval()?.map(|every| {
        let dir = config.backup.dir(&config.data_dir);
        tracing::info!(every_secs = every.as_secs(), keep = config.backup.keep, dir = %dir.display(), "scheduled backups on");
        crate::backup::scheduled::start(config.data_dir.clone(), dir, every, config.backup.keep)
    });
    let listener = TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}; is another lambdabox running? Choose another address with --listen", config.listen))?;
    let addr = listener.local_addr()?;
    state.ctx.iam.set_api_addr(addr);
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: every API call still needs a signed key");
    }
    let data_dir = config.data_dir.clone();
    let (stop_sqs, stop_pollers) = (sqs.clone(), pollers.clone());
    let engine_rt_handle = engine_rt.handle().clone();
    let watch_store = state.ctx.store.clone();
    actix_web::rt::System::new().block_on(async move {
        let data = actix_web::web::Data::new(state);
        let web_data = actix_web::web::Data::new(web_state);
        let http = config.server.clone();
        let per_client = crate::http_guard::PerClient::new(http.max_connections_per_client);
        let body_idle = std::time::Duration::from_secs(http.body_idle_timeout_secs);
        let url_hosts = crate::triggers::http::HostSuffix::from_config(&config);
        let api_hosts = crate::triggers::http::gateway::HostSuffix::from_config(&config);
        let bucket_hosts = crate::api::s3::vhost::BucketHosts::from_config(&config);
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .wrap_fn(move |mut req, srv| {
                    crate::http_guard::idle_body(&mut req, body_idle);
                    actix_web::dev::Service::call(srv, req)
                })
                .app_data(data.clone())
                .app_data(web_data.clone())
                .configure(|c| crate::triggers::http::configure(c, url_hosts.clone()))
                .configure(|c| crate::triggers::http::gateway::configure(c, api_hosts.clone()))
                .configure(|c| crate::api::s3::vhost::configure(c, bucket_hosts.clone()))
                .configure(crate::web::configure)
                .configure(api::configure)
        })
        .client_request_timeout(std::time::Duration::from_secs(http.header_timeout_secs))
        .keep_alive(std::time::Duration::from_secs(http.keep_alive_secs))
        .on_connect(move |conn, ext| per_client.on_connect(conn, ext))
        .workers(config.server.effective_workers())
        // After an early answer (a refused signature, a body over its cap) the unread rest of
        // the body is drained this long, so the client reads the answer instead of a reset.
        .client_disconnect_timeout(std::time::Duration::from_secs(2))
        .shutdown_timeout(config.server.shutdown_grace_secs)
        .disable_signals()
        .listen(listener)?
        .run();
        // Our own handlers, registered before the readiness line: a signal that arrives right
        // after it still stops the daemon gracefully.
        let handle = server.handle();
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        actix_web::rt::spawn(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                _ = int.recv() => tracing::info!("SIGINT: shutting down"),
            }
            // Long polls answer at once, pollers finish their batch: nothing holds the
            // server's graceful stop for up to 20 s.
            crate::systemd::stopping("stopping: finishing in-flight requests");
            stop_pollers.shutdown();
            stop_sqs.stop_waiting();
            handle.stop(true).await;
        });
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
        let status = {
            let engine = engine.clone();
            move || {
                format!(
                    "serving on http://{addr}: {} environments running an invocation, {} warm and idle, {} spare",
                    engine.active(),
                    engine.idle(),
                    engine.spares().total()
                )
            }
        };
        crate::systemd::ready(&status());
        if let Some(every) = crate::systemd::watchdog_interval() {
            tracing::info!(interval_ms = every.as_millis() as u64, "systemd watchdog: pinging while the daemon answers");
            let (store, rt) = (watch_store.clone(), engine_rt_handle.clone());
            let probe = move || {
                let (store, rt) = (store.clone(), rt.clone());
                async move {
                    crate::systemd::probe_http(addr).await?;
                    rt.spawn(async {})
                        .await
                        .map_err(|e| format!("the engine runtime did not run a task: {e}"))?;
                    store
                        .call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
                        .await
                        .map_err(|e| format!("the store did not answer: {e}"))?;
                    Ok(())
                }
            };
            actix_web::rt::spawn(crate::systemd::watchdog(every, probe, status, crate::systemd::ping));
        }
        tracing::info!("dashboard: http://{addr}/ui/ (first admin password in {})", data_dir.join(crate::web::login::FIRST_ADMIN_FILE).display());
        tracing::info!(
            "AWS CLI: AWS_SHARED_CREDENTIALS_FILE={} AWS_CONFIG_FILE={} aws --endpoint-url http://{addr} lambda list-functions",
            credentials.display(),
            data_dir.join(AWS_CONFIG_FILE).display()
        );
        server.await?;
        tracing::info!("recording the scheduler's last firings");
        scheduler_handle.flush().await;
        tracing::info!("stopping the queue pollers");
        pollers.shutdown();
        tracing::info!("stopping the asynchronous invocation queue");
        async_invoke.shutdown(std::time::Duration::from_secs(10)).await;
        tracing::info!("stopping execution environments");
        engine.shutdown().await;
        pollers.flush_metrics().await;
        Ok::<(), std::io::Error>(())
    })?;
    engine_rt.shutdown_timeout(std::time::Duration::from_secs(5));
    sqs.shutdown();
    tracing::info!("stopped");
    Ok(())
}

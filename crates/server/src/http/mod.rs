//! The HTTP front end: one module per resource, one shared state, one error type.
//!
//! Paths are normalised before routing (TapPlus and pyvo produce `//sync` and
//! trailing slashes), every response carries a `Server` header (taplint asks for
//! it), CORS is open, and answers are compressed (zstd or gzip) when the client accepts it
//! (`compress`).

pub(crate) mod auth;
mod body;
pub(crate) mod client;
mod compress;
pub mod error;
mod esa;
mod jobs;
mod listen;
mod login;
mod per_client;
mod resources;
pub(crate) mod sync;
mod tls;
pub(crate) mod web;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use axum::extract::{FromRef, Request};
use axum::http::{header, HeaderValue, Uri};
use axum::routing::{get, post};
use axum::Router;
use tower::Layer;
use tower_http::cors::CorsLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::db::{self, Database};
use crate::jobs::Jobs;
use crate::tap::metrics::Metrics;
use crate::tap::{Served, Service};

/// What the handlers share: the TAP service (queries, catalogue) and the async side (job
/// store, event hub). Handlers take the part they need (`State<Arc<Service>>`,
/// `State<Arc<Jobs>>`); the two are built side by side and neither holds the other.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub jobs: Arc<Jobs>,
}

impl FromRef<AppState> for Arc<Service> {
    fn from_ref(s: &AppState) -> Arc<Service> {
        Arc::clone(&s.service)
    }
}

impl FromRef<AppState> for Arc<Jobs> {
    fn from_ref(s: &AppState) -> Arc<Jobs> {
        Arc::clone(&s.jobs)
    }
}

/// The routes under the base path, behind the authentication layer (`auth`).
pub fn router(app_state: AppState, auth: Arc<auth::AuthState>) -> Router {
    let state = Arc::clone(&app_state.service);
    // Every route of one job passes the owner guard first (jobs::owned).
    let one_job = Router::<AppState>::new()
        .route(
            "/async/{id}",
            get(web::job::job_or_page)
                .post(jobs::job_post)
                .delete(jobs::job_delete),
        )
        .route("/async/{id}/phase", get(jobs::phase).post(jobs::phase_post))
        .route(
            "/async/{id}/executionduration",
            get(jobs::duration).post(jobs::duration_post),
        )
        .route(
            "/async/{id}/destruction",
            get(jobs::destruction).post(jobs::destruction_post),
        )
        .route("/async/{id}/quote", get(jobs::quote))
        .route("/async/{id}/owner", get(jobs::owner))
        .route(
            "/async/{id}/parameters",
            get(jobs::parameters).post(jobs::parameters_post),
        )
        .route("/async/{id}/parameters/{part}", get(jobs::parameter_file))
        .route("/async/{id}/results", get(jobs::results))
        .route("/async/{id}/results/result", get(jobs::result))
        .route("/async/{id}/error", get(jobs::error))
        .route("/async/{id}/results/view", get(web::results::view))
        .route("/async/{id}/results/plot.svg", get(web::results::plot))
        .route_layer(axum::middleware::from_fn_with_state(
            app_state.clone(),
            jobs::owned,
        ))
        // Outside the owner guard, so that its 404 reaches a browser as a page too.
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            web::html_errors,
        ));
    // A browser asking for the list is sent to its pages; errors are pages for it (web/).
    let job_list =
        get(web::job::list_or_page)
            .post(jobs::create)
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::clone(&state),
                web::html_errors,
            ));
    // One count of running sync queries per client, for /sync and the sky plot's queries.
    let slots = per_client::ClientSlots::new(
        Arc::new(state.config.clone()),
        // Validated with the configuration (Config::validate).
        crate::netblock::parse_list(&state.config.server.trusted_proxies).unwrap_or_default(),
    );
    let per_client = || axum::middleware::from_fn_with_state(Arc::clone(&slots), per_client::limit);
    let tap = Router::<AppState>::new()
        .route("/", get(web::query::landing))
        .route(
            "/sync",
            get(sync::sync).post(sync::sync).route_layer(per_client()),
        )
        .route(
            "/plot.svg",
            get(web::plot::sync_plot)
                .post(web::plot::sync_plot)
                .route_layer(per_client()),
        )
        .route("/async", job_list)
        .merge(one_job)
        // ESA TAP+ job search and deletion (astroquery's search_async_jobs, remove_jobs).
        .route("/jobs", get(esa::jobs_by_parameter))
        .route("/jobs/{list}", get(esa::jobs))
        .route("/deletejobs", post(esa::delete_jobs))
        .route("/capabilities", get(resources::capabilities))
        .route("/availability", get(resources::availability))
        .route("/tables", get(resources::tables).post(resources::tables))
        .route("/tables/{*name}", get(resources::table))
        .route("/examples", get(resources::examples))
        .route("/xml/esatapplus.xsd", get(resources::esatapplus_xsd))
        .merge(web::routes())
        .merge(web::job_pages(&state));
    let base = state.config.server.base_path.clone();
    let cors_origins = state.config.server.cors_origins.clone();
    let state_base_url = state.base_url.clone();
    let compression = Arc::new(compress::Settings::new(&state.config.compression));
    let app = if base.is_empty() {
        tap
    } else {
        Router::new().nest(&base, tap)
    };
    let app = if state.config.server.metrics {
        app.route("/metrics", get(resources::metrics))
    } else {
        app
    };
    let app = app.fallback(resources::not_found).with_state(app_state);
    // TAP+ login and logout, at the base path and at its parent (the Gaia layout).
    let mut sessions = vec![base.clone()];
    if let Some((parent, _)) = base.rsplit_once('/') {
        if parent != base {
            sessions.push(parent.to_string());
        }
    }
    let mut logins = Router::new();
    for prefix in sessions {
        logins = logins
            .route(&format!("{prefix}/login"), post(login::login))
            .route(&format!("{prefix}/logout"), post(login::logout));
    }
    let app = app.merge(logins.with_state(Arc::clone(&auth)));
    let cors = cors(&cors_origins);
    let origins = Arc::new(web::csrf::Origins::new(&state_base_url));
    app.layer(axum::middleware::from_fn_with_state(auth, auth::authenticate))
        // Before authentication: a forged request is refused before its cookie is looked up.
        .layer(axum::middleware::from_fn_with_state(origins, web::csrf::guard))
        .layer(axum::middleware::from_fn_with_state(compression, compress::layer))
        .layer(cors)
        .layer(SetResponseHeaderLayer::overriding(
            header::SERVER,
            HeaderValue::from_static(concat!("Tapir/", env!("CARGO_PKG_VERSION"))),
        ))
}

/// CORS for browser clients (a web page on another site querying the service): the TAP
/// resources' methods, any request header, never credentials. `server.cors_origins` lists the
/// origins allowed; `["*"]` (the default) allows every origin, which public TAP services need
/// for the browser-based clients of other archives; an empty list turns CORS off. Origins that
/// are not valid header values are skipped with a warning.
fn cors(origins: &[String]) -> CorsLayer {
    use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin};
    let methods = AllowMethods::list([
        axum::http::Method::GET,
        axum::http::Method::POST,
        axum::http::Method::DELETE,
        axum::http::Method::HEAD,
    ]);
    let origin = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| match HeaderValue::from_str(o.trim()) {
                Ok(v) => Some(v),
                Err(_) => {
                    tracing::warn!("server.cors_origins: {o:?} is not an origin; left out");
                    None
                }
            })
            .collect();
        AllowOrigin::list(list)
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods(methods)
        .allow_headers(AllowHeaders::any())
}

/// Collapse repeated slashes and drop a trailing one, keeping the query string.
pub fn normalize_path(mut req: Request) -> Request {
    let uri = req.uri();
    let path = uri.path();
    if !path.contains("//") && (path.len() <= 1 || !path.ends_with('/')) {
        return req;
    }
    let mut clean = String::with_capacity(path.len());
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        clean.push('/');
        clean.push_str(seg);
    }
    if clean.is_empty() {
        clean.push('/');
    }
    if let Some(q) = uri.query() {
        clean.push('?');
        clean.push_str(q);
    }
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = clean.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(u) = Uri::from_parts(parts) {
            *req.uri_mut() = u;
        }
    }
    req
}

/// `tapir serve`: open the database, read TAP_SCHEMA, serve until SIGINT/SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let database = Database::open(&config).await?;
    let result = serve_with(&config, &database).await;
    database.shutdown().await;
    result
}

async fn serve_with(config: &Config, database: &Database) -> anyhow::Result<()> {
    let pool = database.pool(config.database.sync_pool)?;
    let access = crate::tap::access::Rules::new(&config.access.restricted);
    let (tap_schema, query_role) = {
        let client = pool.get().await.context("cannot connect to the database")?;
        let tap_schema = db::read_tap_schema(&client).await?;
        let role_exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&db::QUERY_ROLE])
            .await
            .context("cannot look up the query role")?
            .is_some();
        if !role_exists {
            tracing::warn!(
                "role {} does not exist: queries run as the connecting user (read-only transactions still apply)",
                db::QUERY_ROLE
            );
        }
        if !access.is_empty() && !role_exists {
            anyhow::bail!(
                "access.restricted needs the query role {} (queries as Tapir's own user could read every table)",
                db::QUERY_ROLE
            );
        }
        if role_exists {
            // Also without rules: one removed from the configuration gives its tables back.
            db::access::apply(&client, &access, &tap_schema)
                .await
                .context("access.restricted cannot be enforced in the database")?;
            if !access.is_empty() {
                tracing::info!(rules = access.rules().len(), "restricted tables applied");
            }
        }
        (tap_schema, role_exists.then(|| db::QUERY_ROLE.to_string()))
    };
    let spool_dir = config.server.data_dir.join("spool");
    std::fs::create_dir_all(&spool_dir).with_context(|| format!("cannot create {}", spool_dir.display()))?;
    tracing::info!(tables = tap_schema.tables.len(), "catalogue read from TAP_SCHEMA");
    let jobs = Arc::new(crate::jobs::Jobs::new(config, database)?);
    let state = Arc::new(Service {
        config: config.clone(),
        base_url: config.base_url(),
        sync_pool: pool,
        served: RwLock::new(Arc::new(Served::new(tap_schema))),
        udfs: adql::UdfRegistry::standard(),
        query_role,
        access,
        combined_roles: Default::default(),
        metrics: Metrics::default(),
        job_store: jobs.store.clone(),
        spool_dir,
        spool_seq: AtomicU64::new(0),
        budgets: crate::upload::Budgets::new(&config.limits),
    });
    let auth = Arc::new(auth::AuthState {
        authenticator: crate::identity::Authenticator::new(
            database.pool_named(config.database.async_pool.max(2), Some("tapir-identity"))?,
            &config.identity,
        ),
        proxies: crate::netblock::parse_list(&config.server.trusted_proxies).map_err(anyhow::Error::msg)?,
        plain_http_on_loopback: config.identity.plain_http_on_loopback,
        proxy_user_header: match config.identity.proxy_user_header.trim() {
            "" => None,
            h => {
                Some(axum::http::HeaderName::from_bytes(h.as_bytes()).context("identity.proxy_user_header")?)
            }
        },
    });
    spawn_session_purge(Arc::clone(&auth), config.jobs.reap_interval_secs);
    let tls = match config.server.tls_bind.trim() {
        "" => None,
        _ => Some(Arc::new(
            tls::TlsSource::load(&config.server.tls_cert, &config.server.tls_key)
                .map_err(anyhow::Error::msg)?,
        )),
    };
    spawn_reloader(Arc::clone(&state), tls.clone());
    crate::jobs::start(&state, &jobs, database.pg_config()?).await?;
    let app = tower::util::MapRequestLayer::new(normalize_path).layer(router(
        AppState {
            service: Arc::clone(&state),
            jobs: Arc::clone(&jobs),
        },
        auth,
    ));
    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.bind))?;
    let tls_listener = match &tls {
        Some(_) => Some(
            tokio::net::TcpListener::bind(config.server.tls_bind.trim())
                .await
                .with_context(|| format!("cannot listen on {} (HTTPS)", config.server.tls_bind))?,
        ),
        None => None,
    };
    tracing::info!(
        "Tapir serves {} (listening on {}{})",
        state.base_url,
        config.server.bind,
        if tls.is_some() {
            format!(", HTTPS on {}", config.server.tls_bind)
        } else {
            String::new()
        }
    );
    // One stop signal for both listeners.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (stopping, settings) = (Arc::clone(&jobs), config.clone());
    tokio::spawn(async move {
        shutdown_signal().await;
        // Blocked WAITs return and running jobs are cancelled, so in-flight requests end.
        crate::jobs::stop(&stopping, &settings).await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let plain = listen::serve(
        listener,
        app.clone(),
        &config.server,
        None,
        stopped(stop_rx.clone()),
    );
    match tls_listener {
        Some(l) => {
            let secure = listen::serve(l, app, &config.server, tls, stopped(stop_rx));
            tokio::join!(plain, secure);
        }
        None => plain.await,
    }
    tracing::info!("shut down");
    Ok(())
}

/// Re-read TAP_SCHEMA (and the TLS certificate) on SIGHUP, so operators can publish tables
/// and renew certificates without a restart.
fn spawn_reloader(state: Arc<Service>, tls: Option<Arc<tls::TlsSource>>) {
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; TAP_SCHEMA is read only at start");
            return;
        };
        while hup.recv().await.is_some() {
            if let Some(tls) = &tls {
                let server = &state.config.server;
                match tls.reload(&server.tls_cert, &server.tls_key) {
                    Ok(()) => tracing::info!("TLS certificate re-read"),
                    Err(e) => tracing::error!("cannot re-read the TLS certificate, keeping the old one: {e}"),
                }
            }
            let result = async {
                let client = state.sync_pool.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                let t = db::read_tap_schema(&client).await?;
                if state.query_role.is_some() {
                    db::access::apply(&client, &state.access, &t).await?;
                }
                anyhow::Ok(t)
            }
            .await;
            match result {
                Ok(t) => {
                    tracing::info!(tables = t.tables.len(), "TAP_SCHEMA re-read");
                    state.replace_served(Served::new(t));
                }
                Err(e) => tracing::error!("cannot re-read TAP_SCHEMA, keeping the old catalogue: {e:#}"),
            }
        }
    });
}

/// Remove dead login sessions as often as the job reaper runs.
fn spawn_session_purge(auth: Arc<auth::AuthState>, every_secs: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every_secs.max(1)));
        loop {
            tick.tick().await;
            match auth.authenticator.purge().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "removed ended login sessions"),
                Err(e) => tracing::warn!("cannot remove ended login sessions: {e}"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(u: &str) -> String {
        let req = Request::builder()
            .uri(u)
            .body(axum::body::Body::empty())
            .expect("request");
        normalize_path(req).uri().to_string()
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(norm("/tap//sync"), "/tap/sync");
        assert_eq!(norm("/tap/sync/"), "/tap/sync");
        assert_eq!(norm("/tap/"), "/tap");
        assert_eq!(norm("/tap//tables/?detail=min"), "/tap/tables?detail=min");
        assert_eq!(norm("/"), "/");
        assert_eq!(norm("http://h:8080/tap//sync"), "http://h:8080/tap/sync");
    }
}

//! Background upkeep: this process's heartbeat, recovery of the jobs of processes that died,
//! and the reaper that removes jobs past their destruction time with their files.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Jobs;
use crate::config::JobsConfig;
use crate::job_store as store;

/// Jobs deleted per statement by the reaper.
const REAP_BATCH: i64 = 500;
/// A file in the results directory with no job is removed once it is this old (younger ones
/// may belong to a job being created or finished right now).
const ORPHAN_AGE: Duration = Duration::from_secs(600);

/// Upkeep needs the async side and its settings only, never a query.
pub fn spawn(settings: JobsConfig, jobs: Arc<Jobs>) {
    let (s, j) = (settings.clone(), Arc::clone(&jobs));
    tokio::spawn(async move { heartbeats(s, j).await });
    tokio::spawn(async move { reaper(settings, jobs).await });
}

async fn heartbeats(settings: JobsConfig, jobs: Arc<Jobs>) {
    let j = &settings;
    let period = Duration::from_millis((j.lease_secs * 1000 / 3).max(500));
    let mut shutdown = jobs.shutting_down();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => return,
        }
        let Ok(client) = jobs.store.connection().await else {
            tracing::warn!("no job store connection for the heartbeat");
            continue;
        };
        if let Err(e) = store::heartbeat(&client, &jobs.process_id).await {
            tracing::warn!("{e}");
            continue;
        }
        match store::recover(&client, j.lease_secs, j.requeue_on_crash).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "ended the jobs of a Tapir process that stopped"),
            Err(e) => tracing::warn!("{e}"),
        }
    }
}

async fn reaper(settings: JobsConfig, jobs: Arc<Jobs>) {
    let period = Duration::from_secs(settings.reap_interval_secs);
    let mut shutdown = jobs.shutting_down();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = reap_once(&jobs).await {
            tracing::warn!("the reaper failed: {e}");
        }
    }
}

/// Delete every job past its destruction time, then files that belong to no job.
async fn reap_once(jobs: &Jobs) -> Result<(), crate::db::DbError> {
    let client = jobs
        .store
        .connection()
        .await
        .map_err(|e| crate::db::DbError::Setup(e.to_string()))?;
    let mut total = 0;
    loop {
        let Some(ids) = store::reap(&client, REAP_BATCH).await? else {
            // Another process is reaping.
            return Ok(());
        };
        for id in &ids {
            jobs.remove_files(id).await;
        }
        total += ids.len();
        if (ids.len() as i64) < REAP_BATCH {
            break;
        }
    }
    if total > 0 {
        tracing::info!(jobs = total, "removed jobs past their destruction time");
    }
    sweep_orphans(jobs, &client).await
}

async fn sweep_orphans(jobs: &Jobs, client: &tokio_postgres::Client) -> Result<(), crate::db::DbError> {
    let dir = jobs.results_dir();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", dir.display());
            return Ok(());
        }
    };
    let now = SystemTime::now();
    let mut old: Vec<(String, std::path::PathBuf)> = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let Ok(meta) = entry.metadata().await else {
            continue;
        };
        let age = meta.modified().ok().and_then(|m| now.duration_since(m).ok());
        // A young file may belong to a job whose row another process is about to write; a
        // partial result needs no such grace: it is created only after its job's claim is
        // committed, and kept for as long as that job is EXECUTING, however long the query
        // has been waiting (a lock, a slow first row) without writing to it.
        let young = age.is_none_or(|a| a < ORPHAN_AGE);
        if !meta.is_file() || (young && !is_part(&entry.path())) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let id = name.split('.').next().unwrap_or("").to_string();
        old.push((id, entry.path()));
        if old.len() >= 1000 {
            remove_orphans(client, &mut old).await?;
        }
    }
    remove_orphans(client, &mut old).await
}

async fn remove_orphans(
    client: &tokio_postgres::Client,
    files: &mut Vec<(String, std::path::PathBuf)>,
) -> Result<(), crate::db::DbError> {
    let ids: Vec<&str> = files.iter().map(|(id, _)| id.as_str()).collect();
    let alive: HashSet<String> = store::existing(client, &ids).await?.into_iter().collect();
    // A partial result is kept only while its job runs: one left by a process that died is
    // removed once recovery has ended the job, not at the job's destruction.
    let has_parts = files.iter().any(|(_, p)| is_part(p));
    let running: HashSet<String> = if has_parts {
        store::executing(client, &ids).await?.into_iter().collect()
    } else {
        HashSet::new()
    };
    for (id, path) in files.drain(..) {
        if !alive.contains(&id) {
            tracing::info!("removing {}, which belongs to no job", path.display());
            super::remove_quietly(&path).await;
        } else if is_part(&path) && !running.contains(&id) {
            tracing::info!(
                "removing {}, the partial result of a job no longer running",
                path.display()
            );
            super::remove_quietly(&path).await;
        }
    }
    Ok(())
}

/// Whether a file of the results directory is a result still being written (`<id>.part`).
fn is_part(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "part")
}

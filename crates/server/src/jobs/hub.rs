//! Job events from PostgreSQL's `LISTEN tapir_jobs`, fanned out inside this process.
//!
//! The trigger of migration 0003 announces every phase change and deletion, whichever process
//! made it; one dedicated connection per process listens. Blocking WAITs subscribe to the
//! broadcast, idle workers wait on `queued`, and the worker running a job that another
//! process aborted learns it here. If the connection breaks, everyone is told to look again
//! ([`Event::Resync`]) and the listener reconnects.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{broadcast, Notify};
use tokio_postgres::{AsyncMessage, CancelToken, NoTls};
use uws::Phase;

/// What happened to a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The job entered this phase.
    Phase(Arc<str>, Phase),
    Deleted(Arc<str>),
    /// Events may have been missed: re-read whatever you wait for.
    Resync,
}

impl Event {
    /// Whether a waiter on `job` should look again.
    pub fn concerns(&self, job: &str) -> bool {
        match self {
            Event::Phase(id, _) | Event::Deleted(id) => &**id == job,
            Event::Resync => true,
        }
    }

    fn parse(payload: &str) -> Option<Event> {
        let (id, what) = payload.split_once(' ')?;
        let id: Arc<str> = Arc::from(id);
        if what == "DELETED" {
            return Some(Event::Deleted(id));
        }
        Some(Event::Phase(id, Phase::parse(what)?))
    }
}

/// A job running in this process: how to stop its query.
struct Running {
    token: Option<CancelToken>,
    stop: bool,
}

/// The fan-out point.
pub struct Hub {
    events: broadcast::Sender<Event>,
    /// Wakes idle workers when a job is queued.
    pub queued: Notify,
    running: Mutex<HashMap<String, Running>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            events: broadcast::channel(1024).0,
            queued: Notify::new(),
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker starts on `job`; until [`Hub::finished`], an abort or deletion cancels it.
    pub fn started(&self, job: &str) {
        self.running().insert(
            job.to_string(),
            Running {
                token: None,
                stop: false,
            },
        );
    }

    /// The job's query is about to run on the connection of `token`. False when the job was
    /// stopped already (then the query must not start).
    pub fn executing(&self, job: &str, token: CancelToken) -> bool {
        match self.running().get_mut(job) {
            Some(r) if r.stop => false,
            Some(r) => {
                r.token = Some(token);
                true
            }
            None => false,
        }
    }

    /// Whether the job was aborted or deleted while this process ran it.
    pub fn stopped(&self, job: &str) -> bool {
        self.running().get(job).is_none_or(|r| r.stop)
    }

    pub fn finished(&self, job: &str) {
        self.running().remove(job);
    }

    /// Cancel every running query (shutdown).
    pub fn stop_all(&self) {
        let tokens: Vec<CancelToken> = self
            .running()
            .values_mut()
            .filter_map(|r| {
                r.stop = true;
                r.token.clone()
            })
            .collect();
        for t in tokens {
            tokio::spawn(async move {
                let _ = t.cancel_query(NoTls).await;
            });
        }
    }

    fn dispatch(&self, event: Event) {
        match &event {
            Event::Phase(_, Phase::Queued) | Event::Resync => self.queued.notify_waiters(),
            // A job that ends frees its owner's running allowance (jobs.running_per_user):
            // a queued job of that owner may be claimable now.
            Event::Phase(_, p) if p.is_final() => self.queued.notify_waiters(),
            _ => {}
        }
        let stop = match &event {
            Event::Phase(id, p) if *p != Phase::Executing && *p != Phase::Queued => Some(id),
            Event::Deleted(id) => Some(id),
            _ => None,
        };
        if let Some(id) = stop {
            let token = self.running().get_mut(&**id).and_then(|r| {
                r.stop = true;
                r.token.clone()
            });
            if let Some(t) = token {
                tracing::info!(job = %id, "cancelling the query of a stopped job");
                tokio::spawn(async move {
                    if let Err(e) = t.cancel_query(NoTls).await {
                        tracing::warn!("cannot cancel a job's query: {e}");
                    }
                });
            }
        }
        // No subscriber is not an error: nobody is waiting.
        let _ = self.events.send(event);
    }
}

/// Listen for job events until the process ends, reconnecting after failures.
pub fn spawn_listener(hub: Arc<Hub>, config: tokio_postgres::Config) {
    tokio::spawn(async move {
        loop {
            match listen(&hub, &config).await {
                Ok(()) => tracing::warn!("the job event connection closed; reconnecting"),
                Err(e) => tracing::warn!("the job event connection failed ({e}); reconnecting"),
            }
            hub.dispatch(Event::Resync);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

async fn listen(hub: &Hub, config: &tokio_postgres::Config) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    client.batch_execute("LISTEN tapir_jobs").await?;
    // Events before LISTEN took effect were missed.
    hub.dispatch(Event::Resync);
    while let Some(payload) = rx.recv().await {
        match Event::parse(&payload) {
            Some(e) => hub.dispatch(e),
            None => tracing::warn!("unexpected job event {payload:?}"),
        }
    }
    drop(client);
    match driver.await {
        Ok(r) => r,
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        assert_eq!(
            Event::parse("abc QUEUED"),
            Some(Event::Phase(Arc::from("abc"), Phase::Queued))
        );
        assert_eq!(
            Event::parse("abc DELETED"),
            Some(Event::Deleted(Arc::from("abc")))
        );
        assert_eq!(Event::parse("abc"), None);
        assert!(Event::Resync.concerns("x"));
        assert!(!Event::Deleted(Arc::from("y")).concerns("x"));
    }
}

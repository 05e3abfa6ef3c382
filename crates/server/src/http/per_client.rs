//! At most `limits.sync_per_client` synchronous queries running at once per client (issue 12):
//! an authenticated user counts as one client wherever they connect from (issue 14), anyone
//! else by address. One script that opens twenty downloads cannot take every sync connection
//! from everybody else. The next one is answered 429 with Retry-After at once (pyvo's
//! `DALRateLimitError`), before it reads its body or waits for a connection.
//!
//! A slot is held until the response body has been sent or dropped, so a query counts for as
//! long as it streams, not only until its first row.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::client;
use crate::config::Config;
use crate::netblock::NetBlock;
use crate::tap::limits::UserLimits;
use crate::tap::TapError;

/// Who counts as one client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Client {
    User(String),
    Address(IpAddr),
}

/// Running sync queries per client.
pub struct ClientSlots {
    config: Arc<Config>,
    proxies: Vec<NetBlock>,
    running: Mutex<HashMap<Client, u32>>,
}

impl ClientSlots {
    /// The limit per client is `limits.sync_per_client`, or for a user what their groups
    /// allow (`tap::limits`). The proxies come from validated configuration.
    pub fn new(config: Arc<Config>, proxies: Vec<NetBlock>) -> Arc<ClientSlots> {
        Arc::new(ClientSlots {
            config,
            proxies,
            running: Mutex::new(HashMap::new()),
        })
    }

    fn try_take(self: &Arc<Self>, client: Client, max: u32) -> Option<Slot> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let n = running.entry(client.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: Arc::clone(self),
            client,
        })
    }
}

/// One running query of one client; given back when dropped.
struct Slot {
    slots: Arc<ClientSlots>,
    client: Client,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.slots.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = running.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // Keep the map as small as the set of clients with a query running.
                running.remove(&self.client);
            }
        }
    }
}

/// Middleware of the `/sync` route.
pub async fn limit(State(slots): State<Arc<ClientSlots>>, req: Request, next: Next) -> Response {
    let caller = super::auth::caller_of(&req);
    let Some(max) = UserLimits::of(&slots.config, &caller).sync else {
        return next.run(req).await;
    };
    let who = match caller.owner() {
        Some(user) => Client::User(user.to_string()),
        None => match client::address(&req, &slots.proxies) {
            Some(ip) => Client::Address(ip),
            None => return next.run(req).await,
        },
    };
    let Some(slot) = slots.try_take(who.clone(), max) else {
        tracing::info!(client = ?who, max, "sync query refused: too many running for this client");
        return TapError::too_many(
            format!(
                "you already have {} synchronous queries running (the most one client may run at \
                 once); wait for one to finish, or submit this one as an asynchronous job",
                max
            ),
            super::sync::SYNC_RETRY_AFTER_SECS,
        )
        .into_response();
    };
    let response = next.run(req).await;
    // The slot lives as long as the body: dropped with the last chunk sent or the client gone.
    response.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &slot;
            chunk
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let slots = ClientSlots::new(Arc::new(Config::default()), Vec::new());
        let a = Client::Address("192.0.2.1".parse().unwrap());
        let b = Client::Address("192.0.2.2".parse().unwrap());
        let first = slots.try_take(a.clone(), 2).unwrap();
        let _second = slots.try_take(a.clone(), 2).unwrap();
        assert!(
            slots.try_take(a.clone(), 2).is_none(),
            "a third for the same client"
        );
        assert!(slots.try_take(b, 2).is_some(), "another client is not affected");
        assert!(
            slots.try_take(Client::User("alice".into()), 2).is_some(),
            "a user is a client of their own"
        );
        drop(first);
        assert!(slots.try_take(a, 2).is_some(), "a slot given back is free again");
    }
}

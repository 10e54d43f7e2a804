//! Tokens shared between processes (through [`SharedState`]): a process first looks for a token
//! another one stored; when there is none, one process takes a lock, asks the token endpoint and
//! stores the token, while the others wait for it. So however many processes start at once,
//! the endpoint sees one request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use super::{later, Failure, State, Token, TokenSource};
use crate::shared::SharedState;

/// How often a process waiting for another's token looks again.
const POLL: Duration = Duration::from_millis(25);

/// The shared store and this source's key in it.
#[derive(Debug, Clone)]
pub(crate) struct SharedTokens {
    pub(crate) state: Arc<dyn SharedState>,
    pub(crate) key: String,
}

impl TokenSource {
    /// A token: from the shared store when a fresh one is there, else from the endpoint under
    /// the shared lock. `forced` (after a rejection) skips the store's token, which may be the
    /// rejected one. Without a store, or when it fails, the endpoint is asked directly.
    pub(super) async fn obtain(
        &self,
        state: &mut State,
        now: Instant,
        forced: bool,
    ) -> Result<Token, Failure> {
        let Some(shared) = &self.shared else {
            return self.fetch(state, now).await;
        };
        let lock = format!("{}:lock", shared.key);
        let give_up = Instant::now() + self.settings.timeout;
        loop {
            if !forced {
                if let Some(token) = self.adopt(shared, now).await {
                    return Ok(token);
                }
            }
            match shared.state.try_lock(&lock, self.settings.timeout).await {
                Ok(true) => {
                    let result = self.fetch(state, now).await;
                    if let Ok(token) = &result {
                        self.publish(shared, token, now).await;
                    }
                    if let Err(err) = shared.state.unlock(&lock).await {
                        tracing::warn!(scheme = %self.scheme, "{err}");
                    }
                    return result;
                }
                Ok(false) if Instant::now() < give_up => tokio::time::sleep(POLL).await,
                Ok(false) => return self.fetch(state, now).await,
                Err(err) => {
                    tracing::warn!(scheme = %self.scheme, "{err}; asking the token endpoint directly");
                    return self.fetch(state, now).await;
                }
            }
        }
    }

    /// The stored token, if there is one worth using.
    async fn adopt(&self, shared: &SharedTokens, now: Instant) -> Option<Token> {
        let (value, ttl) = match shared.state.token(&shared.key).await {
            Ok(found) => found?,
            Err(err) => {
                tracing::warn!(scheme = %self.scheme, "{err}");
                return None;
            }
        };
        let mut header = HeaderValue::from_str(&value).ok()?;
        header.set_sensitive(true);
        let window = self.settings.refresh_window.min(ttl - ttl / 4);
        if ttl <= window {
            return None;
        }
        tracing::debug!(scheme = %self.scheme, "using the access token another process obtained");
        Some(Token {
            header,
            expires_at: Some(later(now, ttl)),
            refresh_at: Some(later(now, ttl - window)),
            seq: 0,
        })
    }

    /// Stores `token` for the other processes, for its remaining lifetime.
    async fn publish(&self, shared: &SharedTokens, token: &Token, now: Instant) {
        let Some(expires_at) = token.expires_at else {
            return;
        };
        let ttl = expires_at.saturating_duration_since(now);
        let Ok(value) = token.header.to_str() else {
            return;
        };
        if ttl.is_zero() {
            return;
        }
        if let Err(err) = shared.state.store_token(&shared.key, value, ttl).await {
            tracing::warn!(scheme = %self.scheme, "{err}");
        }
    }
}

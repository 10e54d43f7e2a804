//! Tokens shared between processes (through [`SharedState`]): a process first looks for a token
//! another one stored; when there is none, one process takes a lock, asks the token endpoint and
//! stores the token, while the others wait for it. So however many processes start at once,
//! the endpoint sees one request.
//!
//! A refresh token the server rotates is shared the same way: under the lock, a process takes
//! the current refresh token from the store before it refreshes, and stores the new one before
//! it lets go, so that no process presents a spent one (servers revoke the whole token family
//! when one is reused). Without the store (unreachable, or the lock held too long) a refresh
//! token is not presented at all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use super::{later, Failure, State, Token, TokenSource};
use crate::auth::Grant;
use crate::secret::Secret;
use crate::shared::SharedState;

/// How often a process waiting for another's token looks again.
const POLL: Duration = Duration::from_millis(25);

/// How long a shared refresh token is kept: longer than refresh tokens usually live (each
/// process also keeps its own, and the secrets file the last one it saw).
const REFRESH_TTL: Duration = Duration::from_secs(400 * 24 * 3600);

/// The shared store and this source's keys in it.
#[derive(Debug, Clone)]
pub(crate) struct SharedTokens {
    pub(crate) state: Arc<dyn SharedState>,
    /// The access token's key (its lock is `KEY:lock`).
    pub(crate) key: String,
    /// The current refresh token's key, per login.
    pub(crate) refresh_key: String,
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
        // A refresh token may have been rotated by another process: it is presented only with
        // the store's current one, under the lock.
        let refreshes = self.credential.grant != Grant::ClientCredentials;
        let give_up = Instant::now() + self.settings.timeout;
        loop {
            if !forced {
                if let Some(token) = self.adopt(shared, now).await {
                    return Ok(token);
                }
            }
            match shared.state.try_lock(&lock, self.settings.timeout).await {
                Ok(true) => {
                    let result = self.fetch_shared(shared, state, now, refreshes).await;
                    if let Err(err) = shared.state.unlock(&lock).await {
                        tracing::warn!(scheme = %self.scheme, "{err}");
                    }
                    return result;
                }
                Ok(false) if Instant::now() < give_up => tokio::time::sleep(POLL).await,
                Ok(false) if refreshes => {
                    return Err(Failure::Other(
                        "another process held the shared token lock for longer than the token timeout; the refresh token is not presented, as that process may be rotating it"
                            .into(),
                    ))
                }
                Ok(false) => return self.fetch(state, now).await,
                Err(err) if refreshes => {
                    tracing::warn!(scheme = %self.scheme, "{err}; not refreshing");
                    return Err(Failure::Other(format!(
                        "{err}; the refresh token is not presented without it, as another process may have rotated it"
                    )));
                }
                Err(err) => {
                    tracing::warn!(scheme = %self.scheme, "{err}; asking the token endpoint directly");
                    return self.fetch(state, now).await;
                }
            }
        }
    }

    /// One token request under the shared lock: with the store's refresh token when it has one,
    /// and the token (and a rotated refresh token) stored before the lock is let go.
    async fn fetch_shared(
        &self,
        shared: &SharedTokens,
        state: &mut State,
        now: Instant,
        refreshes: bool,
    ) -> Result<Token, Failure> {
        if refreshes {
            match shared.state.token(&shared.refresh_key).await {
                Ok(Some((current, _))) => state.refresh_token = Some(Secret::new(current)),
                Ok(None) => {}
                Err(err) => {
                    return Err(Failure::Other(format!(
                        "{err}; the refresh token is not presented without it, as another process may have rotated it"
                    )))
                }
            }
        }
        let before = state.refresh_token.as_ref().map(|t| t.expose().to_owned());
        let token = self.fetch(state, now).await?;
        self.publish(shared, &token, now).await;
        let after = state.refresh_token.as_ref().map(Secret::expose);
        if let Some(rotated) = after.filter(|after| before.as_deref() != Some(*after)) {
            if let Err(err) = shared
                .state
                .store_token(&shared.refresh_key, rotated, REFRESH_TTL)
                .await
            {
                // The other processes will present the spent token: say so loudly.
                tracing::error!(scheme = %self.scheme, "{err}; the rotated refresh token could not be shared");
            }
        }
        Ok(token)
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
        if ttl.is_zero() {
            return None;
        }
        tracing::debug!(scheme = %self.scheme, "using the access token another process obtained");
        // The store keeps a token only until it is due for renewal (see `publish`), so it is
        // used until then, and then renewed by whichever process takes the lock first.
        Some(Token {
            header,
            expires_at: Some(later(now, ttl)),
            refresh_at: Some(later(now, ttl)),
            seq: 0,
        })
    }

    /// Stores `token` for the other processes until it is due for renewal: a token kept until
    /// it expires would be taken again and again, each time for a shorter while, and renewed
    /// by nobody until calls fail with it.
    async fn publish(&self, shared: &SharedTokens, token: &Token, now: Instant) {
        let Some(due) = token.refresh_at.or(token.expires_at) else {
            return;
        };
        let ttl = due.saturating_duration_since(now);
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

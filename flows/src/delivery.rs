//! Delivery: each pending event, in the order it was stored, handed to a command (the event's
//! JSON on its stdin). Exit 0 marks it done; anything else is retried with capped exponential
//! backoff, and after the last attempt the event goes to the dead letters. An event is marked
//! done only after the command succeeded, so a crash in between delivers it again: at least
//! once. One event at a time, so events arrive in the order they were stored.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::error::Error;
use crate::events::{Attempt, EventStore, StoredEvent};

/// How a command is run for each event.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The command line, run with `sh -c`.
    pub command: String,
    /// Attempts per event before it goes to the dead letters (default 5).
    pub max_attempts: u32,
    /// The first retry's wait (default 1 s), doubled at each retry.
    pub backoff_base: Duration,
    /// The longest wait between attempts (default 60 s).
    pub backoff_cap: Duration,
    /// How long one run of the command may take before it is killed and counted as failed
    /// (default 5 minutes).
    pub timeout: Duration,
    /// Only events of this type.
    pub event_type: Option<String>,
    /// How often to look for new events when following (default 500 ms).
    pub poll: Duration,
}

impl Delivery {
    /// Delivery to `command` with the defaults.
    pub fn new(command: impl Into<String>) -> Delivery {
        Delivery {
            command: command.into(),
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
            timeout: Duration::from_secs(300),
            event_type: None,
            poll: Duration::from_millis(500),
        }
    }

    /// The wait before attempt `attempt + 1` (`attempt` >= 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_cap)
    }

    /// Delivers pending events until none is left (or, with `follow`, until `stop` resolves).
    /// `on_outcome` hears of each attempt. Returns how many events were delivered and how many
    /// went to the dead letters.
    pub async fn run(
        &self,
        events: &EventStore,
        follow: bool,
        stop: impl std::future::Future<Output = ()>,
        mut on_outcome: impl FnMut(&StoredEvent, &Attempt),
    ) -> Result<(u64, u64), Error> {
        tokio::pin!(stop);
        let (mut done, mut dead) = (0, 0);
        loop {
            let next = tokio::select! {
                _ = &mut stop => return Ok((done, dead)),
                next = events.next_pending(self.event_type.as_deref()) => next?,
            };
            let Some(event) = next else {
                if !follow {
                    return Ok((done, dead));
                }
                tokio::select! {
                    _ = &mut stop => return Ok((done, dead)),
                    _ = tokio::time::sleep(self.poll) => continue,
                }
            };
            let outcome = match self.attempt(&event).await {
                Ok(()) => Attempt::Done,
                Err(error) => Attempt::Failed {
                    error,
                    dead: event.attempts.saturating_add(1) >= self.max_attempts,
                },
            };
            events.record_attempt(event.seq, &outcome).await?;
            on_outcome(&event, &outcome);
            match &outcome {
                Attempt::Done => done += 1,
                Attempt::Failed { dead: true, .. } => dead += 1,
                Attempt::Failed { dead: false, .. } => {
                    let wait = self.backoff(event.attempts.saturating_add(1));
                    tokio::select! {
                        _ = &mut stop => return Ok((done, dead)),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// Runs the command once with the event on stdin; `Err` says why it failed.
    async fn attempt(&self, event: &StoredEvent) -> Result<(), String> {
        let input = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the command: {e}"))?;
        let mut stdin = child.stdin.take();
        let mut stderr = child.stderr.take();
        let run = async {
            if let Some(stdin) = stdin.as_mut() {
                // A command that does not read its input is its own business.
                let _ = stdin.write_all(&input).await;
                let _ = stdin.shutdown().await;
            }
            drop(stdin.take());
            let mut text = Vec::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.take(64 * 1024).read_to_end(&mut text).await;
            }
            let status = child.wait().await;
            (status, text)
        };
        match tokio::time::timeout(self.timeout, run).await {
            Err(_) => Err(format!("timed out after {:?}", self.timeout)),
            Ok((Err(err), _)) => Err(format!("the command failed: {err}")),
            Ok((Ok(status), _)) if status.success() => Ok(()),
            Ok((Ok(status), stderr)) => {
                let text = String::from_utf8_lossy(&stderr);
                let tail: String = text
                    .trim()
                    .chars()
                    .rev()
                    .take(500)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                Err(if tail.is_empty() {
                    format!("exit {status}")
                } else {
                    format!("exit {status}: {tail}")
                })
            }
        }
    }
}

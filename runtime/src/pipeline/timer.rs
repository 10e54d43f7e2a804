//! The timer that bounds each attempt, reused from one attempt to the next on a thread.
//!
//! A fresh tokio timer per attempt is registered in the runtime's timer wheel when first polled
//! and taken out of it when dropped, each under the wheel's lock, which on a multi-threaded
//! runtime the worker that sleeps on the timer driver takes too. Moving a registered timer to a
//! later instant takes neither: tokio records the new instant atomically and moves the entry
//! only when the old instant comes. Attempts on one thread follow each other with the same
//! timeout, so each one's timer is due after the previous one's: the thread keeps the timer of
//! its last attempt and the next attempt moves it forward (issue 19 measured the timer as most
//! of what a typed call costs beyond a hand-written `reqwest` call).
//!
//! A kept timer belongs to the runtime it was made on; an attempt on another runtime makes its
//! own. A kept timer that comes due fires with no one waiting on it (at most a spurious wake-up
//! of the task that last waited, which futures allow) and is registered again by its next use.
//! What an attempt observes is unchanged: its timer fires at its own instant.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::{Handle, Id};
use tokio::time::{Instant, Sleep};

/// A timer due at one instant, handed back to the thread when dropped.
pub(crate) struct Timer {
    sleep: Option<Pin<Box<Sleep>>>,
    runtime: Option<Id>,
}

/// The timer a thread kept, with the runtime it belongs to.
struct Kept {
    runtime: Id,
    sleep: Pin<Box<Sleep>>,
}

thread_local! {
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

impl Timer {
    /// A timer due at `deadline`: this thread's kept one when it belongs to the current
    /// runtime, else a new one.
    pub(crate) fn at(deadline: Instant) -> Self {
        // Outside a runtime `sleep_until` fails as `tokio::time::timeout_at` would.
        let Ok(handle) = Handle::try_current() else {
            return Self {
                sleep: Some(Box::pin(tokio::time::sleep_until(deadline))),
                runtime: None,
            };
        };
        let runtime = handle.id();
        let kept = KEPT
            .try_with(|cell| {
                let mut slot = cell.try_borrow_mut().ok()?;
                match slot.take() {
                    Some(kept) if kept.runtime == runtime => Some(kept.sleep),
                    // Another runtime's timer is dropped here, not used.
                    _ => None,
                }
            })
            .ok()
            .flatten();
        let sleep = match kept {
            Some(mut sleep) => {
                sleep.as_mut().reset(deadline);
                sleep
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        };
        Self {
            sleep: Some(sleep),
            runtime: Some(runtime),
        }
    }

    /// Whether the timer has come due; registers the task to be woken when it does.
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let (Some(sleep), Some(runtime)) = (self.sleep.take(), self.runtime) else {
            return;
        };
        // Kept unless the thread already keeps one (calls running side by side) or is ending.
        let _ = KEPT.try_with(|cell| {
            if let Ok(mut slot) = cell.try_borrow_mut() {
                if slot.is_none() {
                    *slot = Some(Kept { runtime, sleep });
                }
            }
        });
    }
}

/// Runs `future` until it completes or `deadline` comes: `None` then. Like
/// `tokio::time::timeout_at`, the future is polled first, so one that is ready when the
/// deadline has also come still gives its result.
pub(crate) async fn until<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut timer = Timer::at(deadline);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        timer.poll_due(cx).map(|()| None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn kept() -> Option<(Id, Instant)> {
        KEPT.with(|cell| {
            cell.borrow()
                .as_ref()
                .map(|k| (k.runtime, k.sleep.deadline()))
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_is_kept_and_moved_to_the_next_deadline() {
        let start = Instant::now();
        let first = until(start + Duration::from_secs(30), async { 1 }).await;
        assert_eq!(first, Some(1));
        let (runtime, due) = kept().expect("the timer is kept");
        assert_eq!(runtime, Handle::current().id());
        assert_eq!(due, start + Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(1)).await;
        let second = until(start + Duration::from_secs(31), async { 2 }).await;
        assert_eq!(second, Some(2));
        assert_eq!(
            kept().map(|(_, due)| due),
            Some(start + Duration::from_secs(31))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_timer_fires_at_the_new_deadline_only() {
        let start = Instant::now();
        until(start + Duration::from_secs(5), async {}).await;
        // Moved later: the old instant passes without firing it.
        let pending = until(
            start + Duration::from_secs(10),
            std::future::pending::<()>(),
        );
        let result = tokio::time::timeout(Duration::from_secs(7), pending).await;
        assert!(result.is_err(), "the timer fired at its old instant");
        // Moved earlier: it fires at the earlier instant.
        let now = Instant::now();
        let fired = until(now + Duration::from_secs(1), std::future::pending::<()>()).await;
        assert_eq!(fired, None);
        assert_eq!(Instant::now(), now + Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_that_came_due_while_kept_is_used_again() {
        let start = Instant::now();
        until(start + Duration::from_secs(1), async {}).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let now = Instant::now();
        let fired = until(now + Duration::from_secs(2), std::future::pending::<()>()).await;
        assert_eq!(fired, None);
        assert_eq!(Instant::now(), now + Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn calls_side_by_side_have_timers_of_their_own() {
        let start = Instant::now();
        let slow = until(start + Duration::from_secs(3), std::future::pending::<()>());
        let fast = until(start + Duration::from_secs(1), std::future::pending::<()>());
        let (slow, fast) = tokio::join!(slow, fast);
        assert_eq!((slow, fast), (None, None));
        assert_eq!(Instant::now(), start + Duration::from_secs(3));
    }

    #[test]
    fn a_timer_of_a_runtime_that_is_gone_is_not_used() {
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let first_id = first.handle().id();
        first.block_on(until(Instant::now() + Duration::from_secs(30), async {}));
        assert_eq!(kept().map(|(id, _)| id), Some(first_id));
        drop(first);
        let second = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let second_id = second.handle().id();
        let fired = second.block_on(until(
            Instant::now() + Duration::from_millis(10),
            std::future::pending::<()>(),
        ));
        assert_eq!(fired, None);
        assert_eq!(kept().map(|(id, _)| id), Some(second_id));
    }
}

//! Pauses between tries: the polling schedule while IAM propagates a key,
//! and the jittered one after IAM throttled a request.
//!
//! Deadlines are on tokio's clock (the same as the system's monotonic clock
//! in the binary), so unit tests can run the protocol with paused time.

use std::time::Duration;
use tokio::time::Instant;

/// The polling schedule while IAM propagates a key: quick at first (most
/// new keys work within seconds), then every half second, so a wait ends at
/// most about half a second after the key works, at two requests a second.
pub struct Backoff {
    delay: Duration,
    deadline: Instant,
}

impl Backoff {
    /// Checked arithmetic on instants: a deadline too far away to represent
    /// (the CLI bounds the timeout, a library caller may not) is capped,
    /// never a panic mid-rotation.
    pub fn new(timeout: Duration) -> Self {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
            .unwrap_or(now);
        Backoff {
            delay: Duration::from_millis(200),
            deadline,
        }
    }

    /// Sleeps until the next try; `false` (without sleeping) when that try
    /// would come after the deadline.
    pub async fn wait(&mut self) -> bool {
        match Instant::now().checked_add(self.delay) {
            Some(next) if next <= self.deadline => {}
            _ => return false,
        }
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 3 / 2).min(Duration::from_millis(500));
        true
    }
}

/// Pauses after AWS throttled a request (or, for `LIST_LAG_WAIT`, while
/// waiting for a listing to catch up): doubling from `first` up to `max`,
/// each with "equal jitter" (half of it fixed, half random), so that clients
/// throttled together do not all come back at the same instant; and no
/// pause that would end past the overall bound.
pub struct Jitter {
    next: Duration,
    max: Duration,
    deadline: Instant,
}

impl Jitter {
    pub fn new(bound: Duration, first: Duration, max: Duration) -> Self {
        let now = Instant::now();
        Jitter {
            next: first,
            max,
            deadline: now.checked_add(bound).unwrap_or(now),
        }
    }

    /// The next pause, or `None` when the try after it would come after the
    /// bound.
    pub fn next_pause(&mut self) -> Option<Duration> {
        let pause = self.next / 2 + self.next.mul_f64(fastrand::f64() / 2.0);
        if Instant::now().checked_add(pause)? > self.deadline {
            return None;
        }
        self.next = self.next.saturating_mul(2).min(self.max);
        Some(pause)
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    /// Item 8 of issue 9: `Instant::now() + timeout` overflowed and aborted.
    #[test]
    fn a_huge_timeout_is_capped_not_a_panic() {
        let mut b = Backoff::new(Duration::MAX);
        assert!(b.deadline > Instant::now());
        b.delay = Duration::MAX;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(!rt.block_on(b.wait()));
    }

    #[test]
    fn throttled_pauses_are_jittered_grow_and_stop_at_the_bound() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let mut j = Jitter::new(
                Duration::from_secs(60),
                Duration::from_secs(1),
                Duration::from_secs(10),
            );
            let mut pauses = Vec::new();
            while let Some(p) = j.next_pause() {
                pauses.push(p);
                tokio::time::sleep(p).await;
            }
            assert!(pauses[0] >= Duration::from_millis(500) && pauses[0] <= Duration::from_secs(1));
            assert!(pauses[1] >= Duration::from_secs(1) && pauses[1] <= Duration::from_secs(2));
            assert!(pauses.iter().all(|p| *p <= Duration::from_secs(10)));
            let waited = start.elapsed();
            assert!(waited <= Duration::from_secs(60), "{waited:?}");
            assert!(waited >= Duration::from_secs(50), "{waited:?}");
            // Two schedules do not pause in step.
            let mut a = Jitter::new(
                Duration::from_secs(60),
                Duration::from_secs(8),
                Duration::from_secs(8),
            );
            let mut b = Jitter::new(
                Duration::from_secs(60),
                Duration::from_secs(8),
                Duration::from_secs(8),
            );
            let differ = (0..5).any(|_| a.next_pause() != b.next_pause());
            assert!(differ);
        });
    }
}

//! The polling schedule while IAM propagates a key.

use std::time::{Duration, Instant};

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
}

//! Work on many VMs at once, but not too many: a class of a hundred students must neither flood
//! its cluster with requests nor wait for a hundred timeouts in a row.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many VMs are worked on at once.
pub(crate) const CONCURRENCY: usize = 8;

/// Runs `jobs` with at most [`CONCURRENCY`] at once; their results in the jobs' order. A job
/// that panics takes the caller down with it, as it would have run inline.
pub(crate) async fn bounded<F, T>(jobs: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut set = JoinSet::new();
    let mut count = 0;
    for (i, job) in jobs.into_iter().enumerate() {
        let permits = Arc::clone(&permits);
        set.spawn(async move {
            // The semaphore is never closed, so a permit always comes.
            let _permit = permits.acquire_owned().await.ok();
            (i, job.await)
        });
        count += 1;
    }
    let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, value)) => out[i] = Some(value),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Nothing aborts these tasks while the set is alive.
            Err(_) => {}
        }
    }
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn at_most_eight_jobs_run_at_once_and_results_keep_their_order() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..30).map(|i| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i
            }
        });
        let got = bounded(jobs).await;
        assert_eq!(got, (0..30).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), CONCURRENCY);
    }
}

//! Bounded concurrency, written once: a list of jobs run as tokio tasks, at most `limit` at a
//! time, each result handed back as it finishes. The live audit's per-user reads and the trail's
//! S3 listings and fetches go through it, so "at most N calls in flight" means the same thing
//! everywhere.

use std::convert::Infallible;
use std::future::Future;
use tokio::task::{JoinError, JoinSet};

/// Runs `work(item)` for every item as a task on the runtime (so the jobs use every worker
/// thread), never more than `limit` at once (at least one), and calls `done` with each result
/// in the order the jobs finish. A job is spawned only when a slot is free, so at most `limit`
/// jobs exist at any time. A job that panicked re-raises its panic here: a bug is never
/// dropped as a missing result.
pub async fn for_each_bounded<T, F, Fut>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    work: F,
    mut done: impl FnMut(Fut::Output),
) where
    F: FnMut(T) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let finished = try_for_each_bounded(items, limit, work, |output| {
        done(output);
        Ok::<(), Infallible>(())
    });
    match finished.await {
        Ok(()) => {}
        Err(never) => match never {},
    }
}

/// [`for_each_bounded`] whose `done` can stop the run: its first error is returned at once, no
/// further job is started and the jobs still running are aborted (as a loop that returns from
/// inside its `join_next` does).
pub async fn try_for_each_bounded<T, F, Fut, E>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    mut work: F,
    mut done: impl FnMut(Fut::Output) -> Result<(), E>,
) -> Result<(), E>
where
    F: FnMut(T) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let limit = limit.max(1);
    // Dropped on an early return, which aborts the jobs still in it.
    let mut tasks = JoinSet::new();
    for item in items {
        while tasks.len() >= limit {
            if let Some(joined) = tasks.join_next().await {
                done(unpanic(joined))?;
            }
        }
        tasks.spawn(work(item));
    }
    while let Some(joined) = tasks.join_next().await {
        done(unpanic(joined))?;
    }
    Ok(())
}

fn unpanic<R>(joined: Result<R, JoinError>) -> R {
    joined.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_more_than_the_limit_and_every_result_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut results = Vec::new();
        for_each_bounded(
            0..40u64,
            3,
            |n| {
                let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1 + n % 3)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    n * 2
                }
            },
            |r| results.push(r),
        )
        .await;
        results.sort_unstable();
        assert_eq!(results, (0..40).map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_limit_of_zero_runs_one_at_a_time() {
        let mut results = Vec::new();
        for_each_bounded([1, 2, 3], 0, |n| async move { n }, |r| results.push(r)).await;
        assert_eq!(results, [1, 2, 3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_stops_the_run_and_aborts_the_running_jobs() {
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let mut seen = Vec::new();
        let result = try_for_each_bounded(
            0..10u64,
            2,
            |n| {
                let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
                async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    // Job 0 fails at once; job 1 would still be running when it does.
                    if n > 0 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                    n
                }
            },
            |n| {
                seen.push(n);
                if n == 0 {
                    Err("job 0 failed")
                } else {
                    Ok(())
                }
            },
        )
        .await;
        assert_eq!(result, Err("job 0 failed"));
        assert_eq!(seen, [0]);
        assert!(
            started.load(Ordering::SeqCst) <= 2,
            "no job started after the error"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the running job was aborted"
        );
    }

    #[tokio::test]
    #[should_panic(expected = "a bug")]
    async fn a_panicking_job_panics_the_caller() {
        for_each_bounded([1], 2, |_| async { panic!("a bug") }, |()| {}).await;
    }
}

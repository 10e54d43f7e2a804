//! Independent jobs on two threads: rendering and formatting a large API's modules is most of
//! generation, and their pieces (batches of types, the other modules, pieces of text to format)
//! do not depend on each other.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// At most this many threads work at once. Each holds the syntax tree of the piece it formats,
/// so more threads cost memory for little gain on the machines this runs on (two cores in CI).
const THREADS: usize = 2;

/// Runs `work` on every job, on up to [`THREADS`] threads taking the jobs in order, and
/// returns the results in job order, or the error of the first job (in job order) that failed.
pub(crate) fn in_parallel<J: Sync, R: Send, E: Send>(
    jobs: &[J],
    work: impl Fn(&J) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, THREADS)
        .min(jobs.len());
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<R, E>>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let worker = || loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(index) else {
            break;
        };
        let result = work(job);
        // Each slot is locked by its one job only: a poisoned lock cannot hold anything.
        *results[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(result);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(worker);
        }
        worker();
    });
    results
        .into_iter()
        .filter_map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_job_order() {
        let jobs: Vec<u64> = (0..50).collect();
        let squares = in_parallel(&jobs, |n| {
            // Uneven work, so that threads finish out of order.
            std::thread::sleep(std::time::Duration::from_micros((50 - n) * 20));
            Ok::<_, String>(n * n)
        })
        .unwrap();
        assert_eq!(squares, jobs.iter().map(|n| n * n).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_failing_job_in_order_is_reported() {
        let jobs: Vec<u32> = (0..20).collect();
        let result = in_parallel(&jobs, |n| match n {
            7 | 13 => Err(format!("job {n}")),
            n => Ok(*n),
        });
        assert_eq!(result, Err("job 7".to_owned()));
    }

    #[test]
    fn no_jobs_is_no_results() {
        let result = in_parallel(&[] as &[u8], |_| Ok::<_, ()>(1));
        assert_eq!(result, Ok(Vec::new()));
    }
}

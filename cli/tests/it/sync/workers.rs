//! Two workers on one Postgres state store (SY-4): never the same sync at once (the CRM counts
//! the writes in flight, and a run writes one record at a time), and when the worker running
//! it is killed, the other takes the sync over once the lease has expired and finishes it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{fixture, fresh_postgres, postgres_client};

async fn lease_holder(url: &str) -> Option<String> {
    let client = postgres_client(url).await;
    let row = client
        .query_opt(
            "SELECT worker FROM sync_leases WHERE sync = 'shared' AND worker <> ''",
            &[],
        )
        .await
        .ok()??;
    Some(row.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn two_workers_share_one_sync_and_take_over_after_the_lease() {
    let Some(state) = fresh_postgres().await else {
        return;
    };
    let f = fixture().await;
    f.shop.seed(1500);
    *f.crm.write_delay.lock().unwrap() = Duration::from_millis(2);
    let lease = Duration::from_secs(3);
    let file = f.crm_sync(
        "shared.toml",
        &format!("[schedule]\nevery = \"1s\"\n\n[state]\nstore = \"{state}\"\nlease = \"3s\""),
    );
    let file = file.to_str().unwrap().to_owned();
    let spawn = || {
        f.command(&["sync", "--watch", "--quiet", &file])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut workers = vec![spawn(), spawn()];

    // Wait until one of them runs the sync and has written some deals.
    let started = Instant::now();
    let holder = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no worker took the sync"
        );
        if let Some(holder) = lease_holder(&state).await {
            if f.crm.deals().len() > 100 {
                break holder;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let pid: u32 = holder.split('-').next().unwrap().parse().unwrap();
    let index = workers
        .iter()
        .position(|w| w.id() == pid)
        .expect("the holder is one of the workers");
    let mut killed = workers.remove(index);
    killed.kill().unwrap();
    let killed_at = Instant::now();
    let _ = tokio::task::spawn_blocking(move || killed.wait()).await;
    let before = f.crm.deals().len();
    assert!(
        before < 1500,
        "the run finished before the kill ({before} deals); the test proves nothing"
    );

    // The other takes over within the lease time + 1 s (its poll is 200 ms).
    let taken = loop {
        if let Some(worker) = lease_holder(&state).await {
            if worker != holder {
                break killed_at.elapsed();
            }
        }
        assert!(
            killed_at.elapsed() < lease + Duration::from_secs(10),
            "no takeover"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("takeover {taken:?} after the kill (lease {lease:?})");
    assert!(
        taken <= lease + Duration::from_secs(1),
        "takeover after {taken:?}"
    );

    // It finishes the run: every order once.
    let deadline = Instant::now() + Duration::from_secs(90);
    while f.crm.deals().len() < 1500 {
        assert!(
            Instant::now() < deadline,
            "the survivor did not finish: {} deals",
            f.crm.deals().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(f.crm.by_external_id().len(), 1500);
    let max = f
        .crm
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        max, 1,
        "two writes were in flight at once: two workers ran the sync together"
    );
    for mut worker in workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
}

//! The README's samples (specs/sync/): the shop-to-CRM sync and the sync into SQLite run as
//! they are, against the loopback shop and CRM.

use super::fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_syncs_run_as_the_readme_shows() {
    let f = fixture().await;
    f.shop.seed(120);
    // The samples as a user has them: specs/ with specs/sync/ inside, the connection files'
    // addresses pointing at the loopback servers.
    let root = f.path("specs");
    std::fs::create_dir_all(root.join("sync")).unwrap();
    for spec in ["shop.yaml", "crm.yaml"] {
        std::fs::copy(super::spec(spec), root.join(spec)).unwrap();
    }
    let samples = crate::support::repo().join("specs/sync");
    for file in ["orders-to-crm.toml", "orders-to-sqlite.toml"] {
        std::fs::copy(samples.join(file), root.join("sync").join(file)).unwrap();
    }
    for file in ["shop.toml", "crm.toml"] {
        let ours = std::fs::read_to_string(f.path(file)).unwrap();
        let url = ours
            .lines()
            .find(|l| l.starts_with("base_url"))
            .unwrap()
            .to_owned();
        let sample = std::fs::read_to_string(samples.join(file)).unwrap();
        let sample: String = sample
            .lines()
            .map(|l| {
                if l.starts_with("base_url") {
                    url.clone()
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(root.join("sync").join(file), sample).unwrap();
    }
    let crm = root.join("sync/orders-to-crm.toml");
    let report = f.sync_ok(&[crm.to_str().unwrap()], 0).await;
    assert_eq!(report["created"], 120, "{report}");
    assert_eq!(f.crm.by_external_id()["5"]["title"], "Order SO-00005");
    let sqlite = root.join("sync/orders-to-sqlite.toml");
    let report = f.sync_ok(&[sqlite.to_str().unwrap()], 0).await;
    assert_eq!(report["created"], 120, "{report}");
    let rows = super::sqlite_rows(&root.join("sync/warehouse.db"), "orders");
    assert_eq!(rows.len(), 120);
    assert_eq!(rows[4]["customer"], "Customer 5");
}

//! Rotated refresh tokens outlive the process: a connection with a secrets file keeps the
//! refresh token the server rotates (with its access token and expiry) there, so the next
//! process starts from the current one and never presents a spent one, which a server that
//! revokes the token family on reuse (OAuth 2.1) would punish. (Across processes at once, with
//! Redis: `tests/shared_state.rs`.)

use std::time::Duration;

use connector_runtime::descriptor::Method;
use connector_runtime::{Args, ConnectionConfig, SecretsFile, StoredTokens};

use crate::support::authz::AuthServer;
use crate::support::*;

fn setup(server: &AuthServer) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let connection = dir.path().join("acme.toml");
    std::fs::write(
        &connection,
        format!(
            "connector = \"test\"\nbase_url = \"{}\"\nallow_http_loopback = true\n\n[credentials.oauth]\ngrant = \"authorization_code\"\nclient_id = \"cli-app\"\n",
            server.uri()
        ),
    )
    .unwrap();
    (dir, connection)
}

fn me() -> connector_runtime::descriptor::OperationDescriptor {
    with_security(op("getMe", Method::Get, "/api/me"), &[&["oauth"]])
}

#[tokio::test]
async fn a_rotated_refresh_token_is_kept_for_the_next_process() {
    let server = AuthServer::start().await;
    server.configure(|b| b.access_lifetime = Duration::from_secs(1));
    let connector = connector(
        vec![me()],
        vec![scheme("oauth", oauth2(&format!("{}/token", server.uri())))],
    );
    let (dir, path) = setup(&server);
    // As `login` leaves it: a refresh token of a fresh family.
    let (_, first) = server.issue();
    let secrets = SecretsFile::beside(&path);
    secrets
        .store(
            "oauth",
            &StoredTokens {
                refresh_token: Some(first.clone().into()),
                family: Some("login-1".into()),
                ..Default::default()
            },
        )
        .unwrap();

    // The first process refreshes (the server rotates the refresh token) and calls the API.
    let connection = ConnectionConfig::from_file(&connector, &path)
        .unwrap()
        .connect(&connector)
        .unwrap();
    connection.execute(&me(), Args::new()).await.unwrap();
    let stored = secrets.read().unwrap().remove("oauth").unwrap();
    let rotated = stored.refresh_token.unwrap().expose().to_owned();
    assert_ne!(rotated, first);
    assert!(server.is_live_refresh(&rotated));
    assert!(stored.access_token.is_some() && stored.expires_at.is_some());
    assert_eq!(stored.family.as_deref(), Some("login-1"));
    drop(connection);

    // The next process, after the access token expired, refreshes with the rotated token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let connection = ConnectionConfig::from_file(&connector, &path)
        .unwrap()
        .connect(&connector)
        .unwrap();
    connection.execute(&me(), Args::new()).await.unwrap();
    let record = server.record();
    assert_eq!(record.reuses, 0, "{record:?}");
    assert_eq!(record.grants.get("refresh_token"), Some(&2));
    assert_eq!(record.api_refused, 0);
    let again = secrets.read().unwrap()["oauth"]
        .refresh_token
        .as_ref()
        .unwrap()
        .expose()
        .to_owned();
    assert!(server.is_live_refresh(&again));
    drop(dir);
}

/// The connection file gives the refresh token itself: the rotation kept in the secrets file
/// descends from it and wins at the next start, while a new token written into the file (a
/// family of its own) wins over the old rotation.
#[tokio::test]
async fn a_refresh_token_in_the_connection_file_is_not_presented_once_rotated() {
    let server = AuthServer::start().await;
    server.configure(|b| b.access_lifetime = Duration::from_secs(1));
    let connector = connector(
        vec![me()],
        vec![scheme("oauth", oauth2(&format!("{}/token", server.uri())))],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.toml");
    let write = |refresh: &str| {
        std::fs::write(
            &path,
            format!(
                "connector = \"test\"\nbase_url = \"{}\"\nallow_http_loopback = true\n\n[credentials.oauth]\nclient_id = \"cli-app\"\nrefresh_token = \"{refresh}\"\n",
                server.uri()
            ),
        )
        .unwrap();
    };
    let call = || async {
        ConnectionConfig::from_file(&connector, &path)
            .unwrap()
            .connect(&connector)
            .unwrap()
            .execute(&me(), Args::new())
            .await
    };
    let (_, first) = server.issue();
    write(&first);
    call().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Restarted: the file still says `first`, which the server has rotated away.
    call().await.unwrap();
    assert_eq!(server.record().reuses, 0, "{:?}", server.record());
    assert!(!server.is_live_refresh(&first));
    // A new login's token written into the file is used, not the older family's rotation.
    let (_, second) = server.issue();
    write(&second);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    call().await.unwrap();
    let record = server.record();
    assert_eq!((record.reuses, record.api_refused), (0, 0), "{record:?}");
    assert!(
        !server.is_live_refresh(&second),
        "the new token was refreshed"
    );
}

#[tokio::test]
async fn a_stored_access_token_is_used_until_it_is_due() {
    let server = AuthServer::start().await;
    let connector = connector(
        vec![me()],
        vec![scheme("oauth", oauth2(&format!("{}/token", server.uri())))],
    );
    let (_dir, path) = setup(&server);
    let (access, refresh) = server.issue();
    SecretsFile::beside(&path)
        .store(
            "oauth",
            &StoredTokens {
                access_token: Some(access.into()),
                refresh_token: Some(refresh.into()),
                expires_at: Some(std::time::SystemTime::now() + Duration::from_secs(3600)),
                ..Default::default()
            },
        )
        .unwrap();
    let connection = ConnectionConfig::from_file(&connector, &path)
        .unwrap()
        .connect(&connector)
        .unwrap();
    for _ in 0..3 {
        connection.execute(&me(), Args::new()).await.unwrap();
    }
    assert!(server.record().grants.is_empty());
}

#[tokio::test]
async fn without_tokens_a_call_says_to_log_in_and_sends_nothing() {
    let server = AuthServer::start().await;
    let connector = connector(
        vec![me()],
        vec![scheme("oauth", oauth2(&format!("{}/token", server.uri())))],
    );
    let (_dir, path) = setup(&server);
    let config = ConnectionConfig::from_file(&connector, &path).unwrap();
    assert!(config.warnings().iter().any(|w| w.contains("login")));
    let err = config
        .connect(&connector)
        .unwrap()
        .execute(&me(), Args::new())
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert!(err.to_string().contains("connector-gen login"), "{err}");
    let record = server.record();
    assert!(record.grants.is_empty() && record.api_calls == 0);
}

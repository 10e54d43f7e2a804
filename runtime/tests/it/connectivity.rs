//! Connectivity: a custom CA and mutual TLS against a local TLS server whose certificates are made
//! here, and a forward proxy that records what it forwards.

use crate::support;
use std::sync::{Arc, Mutex};

use crate::support::{op, text};
use connector_runtime::{Args, Connection, ConnectionConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

struct Pki {
    ca_pem: String,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    ca_der: CertificateDer<'static>,
    /// Client certificate and key, PEM.
    client_pem: (String, String),
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["client.example".to_owned()])
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server: (
            server.der().clone(),
            PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
        ),
        client_pem: (client.pem(), client_key.serialize_pem()),
    }
}

/// A TLS server on localhost that requires a client certificate signed by the CA and answers
/// `200 {}` to every request; returns its port.
async fn tls_server(pki: &Pki) -> u16 {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let config = ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = read_head(&mut tls).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

async fn read_head<S: AsyncReadExt + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(head)
}

fn connector() -> connector_runtime::descriptor::ConnectorDescriptor {
    let mut c = support::connector(
        vec![op(
            "ping",
            connector_runtime::descriptor::Method::Get,
            "/ping",
        )],
        Vec::new(),
    );
    c.name = text("acme");
    c
}

#[tokio::test]
async fn mutual_tls_with_a_private_ca() {
    let pki = pki();
    let port = tls_server(&pki).await;
    let connector = connector();
    let op = connector.operation("ping").unwrap().clone();
    let base = format!("https://localhost:{port}");
    let identity = format!("{}\n{}", pki.client_pem.0, pki.client_pem.1);

    let connection = Connection::builder(&connector)
        .base_url(&base)
        .root_certificates_pem(pki.ca_pem.clone())
        .client_identity_pem(identity.clone())
        .build()
        .unwrap();
    let response = connection.execute(&op, Args::new()).await.unwrap();
    assert_eq!(response.status(), 200);

    // Without the client certificate the server refuses the handshake.
    let no_identity = Connection::builder(&connector)
        .base_url(&base)
        .root_certificates_pem(pki.ca_pem.clone())
        .build()
        .unwrap();
    assert!(no_identity.execute(&op, Args::new()).await.is_err());
    // Without the CA the server's certificate is not trusted.
    let no_ca = Connection::builder(&connector)
        .base_url(&base)
        .client_identity_pem(identity)
        .build()
        .unwrap();
    assert!(no_ca.execute(&op, Args::new()).await.is_err());
}

#[tokio::test]
async fn tls_settings_from_a_connection_file() {
    let pki = pki();
    let port = tls_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(dir.path().join("client.pem"), &pki.client_pem.0).unwrap();
    std::fs::write(dir.path().join("client.key"), &pki.client_pem.1).unwrap();
    let file = dir.path().join("acme.toml");
    std::fs::write(
        &file,
        format!(
            "connector = \"acme\"\nbase_url = \"https://localhost:{port}\"\n[tls]\nca_file = \"ca.pem\"\nclient_cert = \"client.pem\"\nclient_key = {{ file = \"client.key\" }}\n"
        ),
    )
    .unwrap();
    let connector = connector();
    let connection = Connection::from_file(&connector, &file).unwrap();
    let op = connector.operation("ping").unwrap();
    connection.execute(op, Args::new()).await.unwrap();
    let config = ConnectionConfig::from_file(&connector, &file).unwrap();
    assert!(!format!("{config:?}").contains("PRIVATE KEY"));

    // Bad files are reported by key, without their content.
    std::fs::write(dir.path().join("junk.pem"), "not a certificate").unwrap();
    std::fs::write(
        &file,
        "connector = \"acme\"\n[tls]\nca_file = \"junk.pem\"\nclient_cert = \"client.pem\"\n",
    )
    .unwrap();
    let err = ConnectionConfig::from_file(&connector, &file).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`tls.ca_file`") && text.contains("`tls`: give both"),
        "{text}"
    );
}

/// A forward proxy for plain http that records each request head and forwards it.
async fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(head) = read_head(&mut client).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&head).into_owned();
                // `GET http://127.0.0.1:PORT/path HTTP/1.1`: the target is in the request line.
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|uri| uri.strip_prefix("http://"))
                    .and_then(|rest| rest.split('/').next())
                    .map(str::to_owned);
                log.lock().unwrap().push(head.clone());
                let Some(target) = target else { return };
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    return;
                };
                if upstream.write_all(head.as_bytes()).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn requests_go_through_the_proxy_with_their_variables() {
    let server = support::server().await;
    let (port, seen) = recording_proxy().await;
    let connector = connector();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.toml");
    std::fs::write(
        &file,
        format!(
            "connector = \"acme\"\nbase_url = \"{}/facade\"\nproxy = \"http://127.0.0.1:{port}\"\nallow_http_loopback = true\n[headers]\nX-Backend = \"crm-eu\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let connection = Connection::from_file(&connector, &file).unwrap();
    let op = connector.operation("ping").unwrap();
    connection.execute(op, Args::new()).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let expected_line = format!("GET {}/facade/ping HTTP/1.1", server.uri());
    assert!(seen[0].starts_with(&expected_line), "{}", seen[0]);
    assert!(
        seen[0].to_ascii_lowercase().contains("x-backend: crm-eu"),
        "{}",
        seen[0]
    );
    let at_server = server.received_requests().await.unwrap();
    assert_eq!(at_server.len(), 1);
    assert_eq!(at_server[0].url.path(), "/facade/ping");
}

/// A `mutualTLS` security scheme (OpenAPI 3.1) is satisfied by the connection's client
/// certificate: an operation that requires it runs with one, is refused before any request
/// without one, and a credential given for the scheme is refused.
#[tokio::test]
async fn a_mutual_tls_scheme_is_satisfied_by_the_client_certificate() {
    use connector_runtime::descriptor::{SecuritySchemeDescriptor, SecuritySchemeKind};
    use connector_runtime::{Credential, Error};
    use std::borrow::Cow;

    let pki = pki();
    let port = tls_server(&pki).await;
    let mut ping = op("ping", connector_runtime::descriptor::Method::Get, "/ping");
    ping.security = Cow::Owned(vec![Cow::Owned(vec![text("mtls")])]);
    let mut connector = support::connector(
        vec![ping],
        vec![SecuritySchemeDescriptor {
            name: text("mtls"),
            kind: SecuritySchemeKind::MutualTls,
        }],
    );
    connector.name = text("acme");
    let op = connector.operation("ping").unwrap().clone();
    let base = format!("https://localhost:{port}");
    let identity = format!("{}\n{}", pki.client_pem.0, pki.client_pem.1);

    let connection = Connection::builder(&connector)
        .base_url(&base)
        .root_certificates_pem(pki.ca_pem.clone())
        .client_identity_pem(identity)
        .build()
        .unwrap();
    let response = connection.execute(&op, Args::new()).await.unwrap();
    assert_eq!(response.status(), 200);

    let without = Connection::builder(&connector)
        .base_url(&base)
        .root_certificates_pem(pki.ca_pem.clone())
        .build()
        .unwrap();
    let err = without.execute(&op, Args::new()).await.unwrap_err();
    assert!(matches!(err, Error::MissingCredentials { .. }), "{err:?}");

    let given = Connection::builder(&connector)
        .base_url(&base)
        .root_certificates_pem(pki.ca_pem.clone())
        .credential("mtls", Credential::bearer("not a certificate"))
        .build()
        .unwrap_err();
    assert!(given.to_string().contains("client certificate"), "{given}");
    let claimed = Connection::builder(&connector)
        .base_url(&base)
        .root_certificates_pem(pki.ca_pem.clone())
        .credential("mtls", Credential::ClientCertificate)
        .build()
        .unwrap_err();
    assert!(
        claimed.to_string().contains("no client certificate"),
        "{claimed}"
    );
}

//! Where requests may go: server variables (RQ-4) and the SSRF guard (RQ-5). The guard is
//! tested with an injected resolver, a counting connector that refuses every connection (so no
//! request can leave this machine whatever the guard does) and loopback servers only.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::support::*;
use connector_runtime::descriptor::{Method, ServerDescriptor, ServerVariableDescriptor};
use connector_runtime::{
    Args, Connection, Credential, Error, NetworkPolicy, OAuth2Credential, Resolver, Resolving,
    RetryPolicy,
};
use wiremock::matchers::{any, path};
use wiremock::{Mock, ResponseTemplate};

fn server(url: &str, variables: Vec<ServerVariableDescriptor>) -> ServerDescriptor {
    ServerDescriptor {
        url: text(url),
        description: None,
        variables: Cow::Owned(variables),
    }
}

fn variable(name: &str, default: &str, allowed: &[&str]) -> ServerVariableDescriptor {
    ServerVariableDescriptor {
        name: text(name),
        default: text(default),
        allowed: Cow::Owned(allowed.iter().map(|v| text(v)).collect()),
        description: None,
    }
}

#[test]
fn rq4_server_variables_are_checked() {
    let mut connector = connector(vec![], vec![]);
    connector.servers = Cow::Owned(vec![server(
        "https://{tenant}.api.example.com/{version}",
        vec![
            variable("tenant", "acme", &[]),
            variable("version", "v1", &["v1", "v2"]),
        ],
    )]);
    let url = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .fold(Connection::builder(&connector), |b, (n, v)| {
                b.server_variable(*n, *v)
            })
            .build()
            .map(|c| c.base_url().to_owned())
    };
    assert_eq!(url(&[]).unwrap(), "https://acme.api.example.com/v1");
    assert_eq!(
        url(&[("version", "v2"), ("tenant", "globex")]).unwrap(),
        "https://globex.api.example.com/v2"
    );
    assert!(matches!(
        url(&[("version", "v3")]),
        Err(Error::InvalidServerVariable { .. })
    ));
    let long = "a".repeat(64);
    for tenant in [
        "evil.com/x?",
        "a@b",
        "a.b",
        "-a",
        "a-",
        long.as_str(),
        "%2e",
        "",
    ] {
        let result = url(&[("tenant", tenant)]);
        assert!(
            matches!(result, Err(Error::InvalidServerVariable { ref name, .. }) if name == "tenant"),
            "{tenant:?}: {result:?}"
        );
    }
    assert!(url(&[("tenant", &"a".repeat(63))])
        .unwrap()
        .ends_with(".api.example.com/v1"));
}

/// A resolver answering from a table; a name with several answers gives them in turn (the
/// last one for ever), as a rebinding DNS server would.
#[derive(Debug, Default)]
struct TableResolver {
    table: Mutex<BTreeMap<String, Vec<Vec<IpAddr>>>>,
    calls: AtomicUsize,
}

impl TableResolver {
    fn with(entries: &[(&str, &[&[&str]])]) -> Arc<Self> {
        let table = entries
            .iter()
            .map(|(name, answers)| {
                let answers = answers
                    .iter()
                    .map(|ips| ips.iter().map(|ip| ip.parse().unwrap()).collect())
                    .collect();
                (name.to_string(), answers)
            })
            .collect();
        Arc::new(Self {
            table: Mutex::new(table),
            calls: AtomicUsize::new(0),
        })
    }
}

impl Resolver for TableResolver {
    fn resolve(&self, host: &str) -> Resolving {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut table = self.table.lock().unwrap();
        let answer = match table.get_mut(host) {
            Some(answers) if answers.len() > 1 => Ok(answers.remove(0)),
            Some(answers) => Ok(answers[0].clone()),
            None => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "unknown")),
        };
        Box::pin(async move { answer })
    }
}

/// A connector layer that counts connection attempts and refuses every one, so nothing is sent
/// even if the guard let a request through.
#[derive(Clone)]
struct Refusing(Arc<AtomicUsize>);

impl<S> tower_layer::Layer<S> for Refusing {
    type Service = RefusingService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RefusingService(self.0.clone(), inner)
    }
}

#[derive(Clone)]
struct RefusingService<S>(Arc<AtomicUsize>, S);

impl<S, R> tower_service::Service<R> for RefusingService<S>
where
    S: tower_service::Service<R>,
    S::Error: From<std::io::Error>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: R) -> Self::Future {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Err(
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by the test")
                    .into(),
            )
        })
    }
}

/// A connection to `url` for `getThing` that resolves with `resolver` and connects through the
/// refusing connector.
fn refused(
    url: &str,
    resolver: &Arc<TableResolver>,
    connects: &Arc<AtomicUsize>,
) -> connector_runtime::ConnectionBuilder {
    Connection::builder(&connector(
        vec![op("getThing", Method::Get, "/thing")],
        vec![],
    ))
    .base_url(url)
    .resolver(resolver.clone())
    .http_client(reqwest::Client::builder().connector_layer(Refusing(connects.clone())))
}

const BLOCKED: [&str; 11] = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fd00::1",
    "fe80::1",
    "::ffff:169.254.169.254",
];

fn public_only() -> NetworkPolicy {
    NetworkPolicy::PublicOnly {
        allow_loopback: false,
    }
}

#[tokio::test]
async fn rq5_private_addresses_are_blocked_before_connecting() {
    let entries: Vec<(String, Vec<Vec<&str>>)> = BLOCKED
        .iter()
        .enumerate()
        .map(|(i, ip)| (format!("host{i}.test"), vec![vec![*ip]]))
        .collect();
    let borrowed: Vec<(&str, Vec<&[&str]>)> = entries
        .iter()
        .map(|(n, a)| (n.as_str(), a.iter().map(|v| v.as_slice()).collect()))
        .collect();
    let table: Vec<(&str, &[&[&str]])> = borrowed.iter().map(|(n, a)| (*n, a.as_slice())).collect();
    let resolver = TableResolver::with(&table);
    let connects = Arc::new(AtomicUsize::new(0));
    let op = op("getThing", Method::Get, "/thing");
    let mut urls: Vec<String> = (0..BLOCKED.len())
        .map(|i| format!("http://host{i}.test"))
        .collect();
    // Literal addresses too, including the decimal form of 169.254.169.254.
    urls.extend(
        [
            "http://127.0.0.1:9",
            "http://[::1]:9",
            "http://2852039166/",
            "http://[fd00::1]",
        ]
        .map(String::from),
    );
    for url in urls {
        let conn = refused(&url, &resolver, &connects)
            .network_policy(public_only())
            .build()
            .unwrap();
        let err = conn.execute(&op, Args::new()).await.unwrap_err();
        assert!(
            matches!(err, Error::BlockedAddress { .. }),
            "{url}: {err:?}"
        );
        assert!(!err.is_retryable());
    }
    assert_eq!(
        connects.load(Ordering::SeqCst),
        0,
        "no connection was attempted"
    );

    // Without the policy the same URL reaches the connector (which refuses it here).
    let conn = refused("http://host1.test", &resolver, &connects)
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(connects.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rq5_a_rebinding_name_is_connected_only_after_a_passing_check() {
    // First answer public, then loopback.
    let resolver = TableResolver::with(&[("rebind.test", &[&["203.0.113.10"], &["127.0.0.1"]])]);
    let connects = Arc::new(AtomicUsize::new(0));
    let op = op("getThing", Method::Get, "/thing");
    let conn = refused("http://rebind.test", &resolver, &connects)
        .network_policy(public_only())
        .build()
        .unwrap();
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    // The first attempt passed the check and reached the connector (refused there: nothing was
    // sent, so it is retried); the retry found the name moved to loopback and stopped.
    assert!(matches!(err, Error::BlockedAddress { .. }), "{err:?}");
    assert_eq!(connects.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rq5_loopback_needs_allow_loopback_and_redirects_and_token_requests_are_checked() {
    let api = server_with_nothing().await;
    Mock::given(path("/thing"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&api)
        .await;
    let op = op("getThing", Method::Get, "/thing");
    let blocked = Connection::builder(&connector(vec![op.clone()], vec![]))
        .base_url(api.uri())
        .network_policy(public_only())
        .build()
        .unwrap();
    let err = blocked.execute(&op, Args::new()).await.unwrap_err();
    assert!(matches!(err, Error::BlockedAddress { .. }), "{err:?}");
    assert!(requests(&api).await.is_empty());
    let allowed = Connection::builder(&connector(vec![op.clone()], vec![]))
        .base_url(api.uri())
        .network_policy(NetworkPolicy::PublicOnly {
            allow_loopback: true,
        })
        .build()
        .unwrap();
    allowed.execute(&op, Args::new()).await.unwrap();

    // A redirect (followed across origins) to a name that resolves to the metadata address.
    // The client would connect that name to a loopback listener, which must see nothing.
    let trap = server_with(ResponseTemplate::new(200)).await;
    let redirect = server_with_nothing().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(307).insert_header(
            "Location",
            format!("http://metadata.test:{}/latest", trap.address().port()).as_str(),
        ))
        .mount(&redirect)
        .await;
    let resolver = TableResolver::with(&[("metadata.test", &[&["169.254.169.254"]])]);
    let conn = Connection::builder(&connector(vec![op.clone()], vec![]))
        .base_url(redirect.uri())
        .network_policy(NetworkPolicy::PublicOnly {
            allow_loopback: true,
        })
        .resolver(resolver)
        .follow_cross_origin_redirects(true)
        .http_client(reqwest::Client::builder().resolve("metadata.test", *trap.address()))
        .build()
        .unwrap();
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert!(
        matches!(err, Error::BlockedAddress { ref host, .. } if host == "metadata.test"),
        "{err:?}"
    );
    assert_eq!(requests(&redirect).await.len(), 1);
    assert!(requests(&trap).await.is_empty());

    // Token requests: a loopback token endpoint is blocked without allow_loopback.
    let token = server_with(ResponseTemplate::new(200)).await;
    let secured = with_security(op.clone(), &[&["oauth"]]);
    let oauth = connector(
        vec![secured.clone()],
        vec![scheme("oauth", oauth2(&format!("{}/token", token.uri())))],
    );
    let conn = Connection::builder(&oauth)
        .base_url("https://api.example.com")
        .allow_http_loopback(true)
        .network_policy(public_only())
        .credential(
            "oauth",
            Credential::oauth2(OAuth2Credential::client_credentials("id", "secret")),
        )
        .build()
        .unwrap();
    let err = conn.execute(&secured, Args::new()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth { message, .. } if message.contains("blocked")),
        "{err:?}"
    );
    assert!(requests(&token).await.is_empty());
}

#[tokio::test]
async fn rq5_other_schemes_are_rejected() {
    for url in ["file:///etc/passwd", "gopher://example.com/"] {
        let err = Connection::builder(&connector(vec![], vec![]))
            .base_url(url)
            .network_policy(public_only())
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::Config { ref key, .. } if key == "base_url"),
            "{err:?}"
        );
    }
}

//! The SSRF guard (RQ-5): under the "public addresses only" network policy, a request (and each
//! redirect hop, and each token request) may go only to public addresses, checked after DNS
//! resolution. The HTTP clients resolve through the same check, so the address connected to is
//! always one that was checked, even when a name resolves differently the second time.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::Url;

/// Where a connection may send requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NetworkPolicy {
    /// Any address (the default: in-house backends live at private addresses).
    #[default]
    AllowAll,
    /// Public addresses only, for multi-tenant platforms where a tenant's settings must not
    /// reach the platform's own network: private, loopback, link-local, shared, unspecified,
    /// multicast and reserved addresses are refused after DNS resolution (IPv4-mapped IPv6
    /// addresses are judged by their IPv4 address). Loopback is allowed when
    /// `allow_loopback` is set.
    PublicOnly {
        /// Whether loopback addresses (`127.0.0.0/8`, `::1`) are allowed.
        allow_loopback: bool,
    },
}

/// The future a [`Resolver`] returns.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Resolves host names for the guard and the HTTP clients. The default is the system resolver;
/// tests inject one that answers from a table.
pub trait Resolver: Send + Sync + fmt::Debug {
    /// The addresses of `host`.
    fn resolve(&self, host: &str) -> Resolving;
}

/// The operating system's resolver (through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str) -> Resolving {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Why a request was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub(crate) host: String,
    pub(crate) reason: String,
}

/// The policy and the resolver it checks names with.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    pub(crate) policy: NetworkPolicy,
    pub(crate) resolver: Arc<dyn Resolver>,
}

impl Guard {
    pub(crate) fn is_active(&self) -> bool {
        self.policy != NetworkPolicy::AllowAll
    }

    /// Whether `ip` may be connected to.
    pub(crate) fn allows(&self, ip: IpAddr) -> bool {
        match self.policy {
            NetworkPolicy::AllowAll => true,
            NetworkPolicy::PublicOnly { allow_loopback } => {
                is_public(ip) || (allow_loopback && canonical(ip).is_loopback())
            }
        }
    }

    /// Checks the URL's scheme and every address its host resolves to.
    pub(crate) async fn check(&self, url: &Url) -> Result<(), Blocked> {
        if !self.is_active() {
            return Ok(());
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let blocked = |reason: String| Blocked {
            host: host.clone(),
            reason,
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(blocked(format!(
                "the scheme `{}` is not allowed",
                url.scheme()
            )));
        }
        if host.is_empty() {
            return Err(blocked("the URL has no host".into()));
        }
        // The URL parser has already turned every IPv4 spelling (decimal, octal, hex) into
        // dotted form, and IPv6 literals keep their brackets.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let addresses = match literal.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => self
                .resolver
                .resolve(&host)
                .await
                .map_err(|err| blocked(format!("could not resolve the host: {err}")))?,
        };
        if addresses.is_empty() {
            return Err(blocked("the host has no address".into()));
        }
        match addresses.iter().find(|ip| !self.allows(**ip)) {
            Some(ip) => Err(blocked(format!(
                "it resolves to {ip}, which the network policy does not allow"
            ))),
            None => Ok(()),
        }
    }
}

/// The guard as the HTTP client's resolver: every resolution is checked again, and only allowed
/// addresses are handed to the connector.
#[derive(Debug)]
pub(crate) struct GuardedResolve(pub(crate) Guard);

impl reqwest::dns::Resolve for GuardedResolve {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = guard.resolver.resolve(&host).await?;
            let allowed: Vec<SocketAddr> = addresses
                .into_iter()
                .filter(|ip| guard.allows(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves to no address the network policy allows").into();
                return Err(err);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An IPv4-mapped IPv6 address as its IPv4 address; anything else unchanged.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether `ip` is a public unicast address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let private = a == 0                                  // "this network", 0.0.0.0
        || a == 10                                        // private
        || a == 127                                       // loopback
        || (a == 100 && (64..128).contains(&b))           // shared (carrier-grade NAT)
        || (a == 169 && b == 254)                         // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))            // private
        || (a == 192 && b == 168)                         // private
        || (a == 192 && b == 0 && c == 0)                 // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))             // benchmarking
        || a >= 224; // multicast, reserved, broadcast
    !private
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let private = ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xff00) == 0xff00 // multicast
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
        || (ip.segments()[..2] == [0x64, 0xff9b]); // NAT64: judge it as blocked
    !private
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve as _;

    #[derive(Debug)]
    struct Fixed(Vec<IpAddr>);

    impl Resolver for Fixed {
        fn resolve(&self, _: &str) -> Resolving {
            let answer = self.0.clone();
            Box::pin(async move { Ok(answer) })
        }
    }

    #[tokio::test]
    async fn the_client_resolver_hands_on_only_allowed_addresses() {
        let mixed = vec![
            "127.0.0.1".parse().unwrap(),
            "203.0.113.10".parse().unwrap(),
        ];
        let guard = Guard {
            policy: NetworkPolicy::PublicOnly {
                allow_loopback: false,
            },
            resolver: Arc::new(Fixed(mixed)),
        };
        let name: reqwest::dns::Name = "example.test".parse().unwrap();
        let addrs: Vec<SocketAddr> = GuardedResolve(guard.clone())
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, ["203.0.113.10:0".parse().unwrap()]);
        let only_private = Guard {
            resolver: Arc::new(Fixed(vec!["10.0.0.1".parse().unwrap()])),
            ..guard
        };
        let name: reqwest::dns::Name = "example.test".parse().unwrap();
        assert!(GuardedResolve(only_private).resolve(name).await.is_err());
    }

    #[test]
    fn classifies_addresses() {
        // The full list of RQ-5 is in tests/network.rs; these are the edges of the ranges.
        for blocked in [
            "100.127.255.255",
            "172.31.0.1",
            "198.19.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(blocked.parse().unwrap()), "{blocked}");
        }
        for public in [
            "100.128.0.1",
            "172.32.0.1",
            "8.8.8.8",
            "2001:db8::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}

//! Signature verification, before the body is parsed: each scheme says which headers carry the
//! signature (and timestamp, and id), what is signed, and how the MAC is written. MACs are
//! compared in constant time against every configured secret.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use subtle::ConstantTimeEq;

use super::{SignatureScheme, WebhookSignature, DEFAULT_TOLERANCE};
use crate::secret::Secret;

/// Why a request was refused. Never quotes a signature, a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A header the scheme needs is missing.
    #[error("the `{0}` header is missing")]
    MissingHeader(String),
    /// A header is there but not in the scheme's form.
    #[error("the `{header}` header is malformed: {why}")]
    Malformed {
        /// The header.
        header: String,
        /// What is wrong, in words.
        why: &'static str,
    },
    /// The signed timestamp is older than the tolerance.
    #[error(
        "the signed timestamp is older than the tolerance ({0} s): a replay, or a clock far off"
    )]
    Stale(u64),
    /// The signed timestamp is further in the future than the tolerance.
    #[error("the signed timestamp is further in the future than the tolerance ({0} s)")]
    Future(u64),
    /// No configured secret gives the signature the request carries.
    #[error("the signature does not match (body, timestamp or secret differ)")]
    Mismatch,
}

/// What verification learnt from the request's signature headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// The event id the scheme signs (Standard Webhooks' `webhook-id`), when it signs one.
    pub id: Option<String>,
    /// The signed timestamp, in Unix seconds, when the scheme signs one.
    pub timestamp: Option<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Encoding {
    Hex,
    Base64,
}

/// Checks requests against one scheme and its secrets. `Debug` never shows a secret.
#[derive(Clone)]
pub struct Verifier {
    scheme: SignatureScheme,
    header: String,
    algorithm: Algorithm,
    encoding: Encoding,
    prefix: String,
    signed: String,
    timestamp_header: Option<String>,
    id_header: Option<String>,
    keys: Vec<Key>,
    tolerance: Duration,
}

/// A secret's bytes as the MAC uses them; never printed.
#[derive(Clone)]
struct Key(Vec<u8>);

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme.as_str())
            .field("header", &self.header)
            .field("secrets", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `signature` with `secrets` (any of them verifies: several during a
    /// rotation). A Standard Webhooks secret is base64, with or without its `whsec_` prefix.
    /// Errors name the option at fault, never a secret's value.
    pub fn new(signature: &WebhookSignature, secrets: Vec<Secret>) -> Result<Verifier, String> {
        if secrets.is_empty() {
            return Err("no secret: give `secret` or `secrets`".into());
        }
        let scheme = signature.scheme;
        let option = |name: &str, value: &Option<String>| -> Result<(), String> {
            match (scheme, value) {
                (SignatureScheme::Hmac | SignatureScheme::Token, _) | (_, None) => Ok(()),
                _ => Err(format!(
                    "`{name}` is fixed by the `{}` scheme; leave it out",
                    scheme.as_str()
                )),
            }
        };
        option("header", &signature.header)?;
        for (name, value) in [
            ("algorithm", &signature.algorithm),
            ("encoding", &signature.encoding),
            ("prefix", &signature.prefix),
            ("signed", &signature.signed),
            ("timestamp_header", &signature.timestamp_header),
            ("id_header", &signature.id_header),
        ] {
            if scheme == SignatureScheme::Token && value.is_some() {
                return Err(format!("`{name}` means nothing to the `token` scheme"));
            }
            option(name, value)?;
        }
        let mut verifier = Verifier {
            scheme,
            header: String::new(),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
            prefix: String::new(),
            signed: "{body}".into(),
            timestamp_header: None,
            id_header: None,
            keys: secrets
                .iter()
                .map(|s| Key(s.expose().as_bytes().to_vec()))
                .collect(),
            tolerance: DEFAULT_TOLERANCE,
        };
        match scheme {
            SignatureScheme::StandardWebhooks => {
                verifier.header = "webhook-signature".into();
                verifier.encoding = Encoding::Base64;
                verifier.signed = "{id}.{timestamp}.{body}".into();
                verifier.timestamp_header = Some("webhook-timestamp".into());
                verifier.id_header = Some("webhook-id".into());
                verifier.keys = secrets
                    .iter()
                    .enumerate()
                    .map(|(index, secret)| {
                        let text = secret.expose();
                        let text = text.strip_prefix("whsec_").unwrap_or(text);
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .ok()
                            .filter(|key| !key.is_empty())
                            .map(Key)
                            .ok_or_else(|| {
                                format!(
                                    "secret {} is not a Standard Webhooks secret (`whsec_` and base64)",
                                    index + 1
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?;
            }
            SignatureScheme::Github => {
                verifier.header = "x-hub-signature-256".into();
                verifier.prefix = "sha256=".into();
            }
            SignatureScheme::Stripe => {
                verifier.header = "stripe-signature".into();
                verifier.signed = "{timestamp}.{body}".into();
            }
            SignatureScheme::Slack => {
                verifier.header = "x-slack-signature".into();
                verifier.prefix = "v0=".into();
                verifier.signed = "v0:{timestamp}:{body}".into();
                verifier.timestamp_header = Some("x-slack-request-timestamp".into());
            }
            SignatureScheme::Hmac | SignatureScheme::Token => {
                verifier.header = signature
                    .header
                    .clone()
                    .filter(|h| http::HeaderName::from_bytes(h.as_bytes()).is_ok())
                    .ok_or_else(|| {
                        format!(
                            "`header`: the `{}` scheme needs the name of the header that carries it",
                            scheme.as_str()
                        )
                    })?
                    .to_ascii_lowercase();
                verifier.algorithm = match signature.algorithm.as_deref() {
                    None | Some("sha256") => Algorithm::Sha256,
                    Some("sha512") => Algorithm::Sha512,
                    Some("sha1") => Algorithm::Sha1,
                    Some(_) => return Err("`algorithm`: use sha256, sha512 or sha1".into()),
                };
                verifier.encoding = match signature.encoding.as_deref() {
                    None | Some("hex") => Encoding::Hex,
                    Some("base64") => Encoding::Base64,
                    Some(_) => return Err("`encoding`: use hex or base64".into()),
                };
                verifier.prefix = signature.prefix.clone().unwrap_or_default();
                verifier.signed = signature.signed.clone().unwrap_or_else(|| "{body}".into());
                if !verifier.signed.contains("{body}") {
                    return Err("`signed` must contain `{body}`".into());
                }
                verifier.timestamp_header = signature.timestamp_header.clone();
                verifier.id_header = signature.id_header.clone();
                for (placeholder, header) in [
                    ("{timestamp}", &verifier.timestamp_header),
                    ("{id}", &verifier.id_header),
                ] {
                    if verifier.signed.contains(placeholder) && header.is_none() {
                        return Err(format!(
                            "`signed` uses `{placeholder}`: name its header (`{}_header`)",
                            placeholder.trim_matches(['{', '}'])
                        ));
                    }
                }
            }
        }
        Ok(verifier)
    }

    /// Sets how far a signed timestamp may be from now, either way (default 5 minutes).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Verifier {
        self.tolerance = tolerance;
        self
    }

    /// The scheme.
    pub fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    /// The headers (lower case) that carry the signature or token: never stored or logged.
    pub fn secret_headers(&self) -> Vec<&str> {
        vec![self.header.as_str()]
    }

    /// Checks the request's signature over `body` at time `now`. Nothing of the body is parsed.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, Refusal> {
        let given = header(headers, &self.header)?;
        if self.scheme == SignatureScheme::Token {
            let matches = self
                .keys
                .iter()
                .fold(false, |found, key| found | equal(given.as_bytes(), &key.0));
            return if matches {
                Ok(Verified::default())
            } else {
                Err(Refusal::Mismatch)
            };
        }
        let mut verified = Verified::default();
        let mut signatures: Vec<Vec<u8>> = Vec::new();
        match self.scheme {
            SignatureScheme::Stripe => {
                let mut timestamp = None;
                for part in given.split(',') {
                    match part.trim().split_once('=') {
                        Some(("t", value)) => timestamp = Some(value.to_owned()),
                        Some(("v1", value)) => signatures.extend(self.decode_mac(value)),
                        _ => {}
                    }
                }
                let timestamp = timestamp.ok_or(Refusal::Malformed {
                    header: self.header.clone(),
                    why: "no `t=` timestamp",
                })?;
                verified.timestamp = Some(self.check_time(&timestamp, &self.header, now)?);
            }
            SignatureScheme::StandardWebhooks => {
                // Space-separated `v1,<base64>` signatures; other versions are skipped.
                for part in given.split(' ') {
                    if let Some(("v1", value)) = part.split_once(',') {
                        signatures.extend(self.decode_mac(value));
                    }
                }
            }
            _ => {
                let value = given
                    .strip_prefix(self.prefix.as_str())
                    .ok_or(Refusal::Malformed {
                        header: self.header.clone(),
                        why: "it does not start with the scheme's prefix",
                    })?;
                signatures.extend(self.decode_mac(value.trim()));
            }
        }
        if signatures.is_empty() {
            return Err(Refusal::Malformed {
                header: self.header.clone(),
                why: "no signature in the scheme's form",
            });
        }
        let mut timestamp_text = String::new();
        if let Some(name) = &self.timestamp_header {
            let text = header(headers, name)?;
            verified.timestamp = Some(self.check_time(text, name, now)?);
            timestamp_text = text.to_owned();
        } else if let Some(t) = verified.timestamp {
            timestamp_text = t.to_string();
        }
        let mut id_text = String::new();
        if let Some(name) = &self.id_header {
            id_text = header(headers, name)?.to_owned();
            verified.id = Some(id_text.clone());
        }
        let (before, after) = self.signed.split_once("{body}").unwrap_or(("", ""));
        let fill = |text: &str| {
            text.replace("{timestamp}", &timestamp_text)
                .replace("{id}", &id_text)
        };
        let (before, after) = (fill(before), fill(after));
        let mut matches = false;
        for key in &self.keys {
            let expected = mac(
                self.algorithm,
                &key.0,
                &[before.as_bytes(), body, after.as_bytes()],
            );
            for signature in &signatures {
                // No early exit: the time taken does not tell which secret or signature matched.
                matches |= equal(&expected, signature);
            }
        }
        if matches {
            Ok(verified)
        } else {
            Err(Refusal::Mismatch)
        }
    }

    fn decode_mac(&self, text: &str) -> Option<Vec<u8>> {
        match self.encoding {
            Encoding::Hex => hex(text),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(text).ok(),
        }
    }

    /// The timestamp in Unix seconds, refused outside the tolerance.
    fn check_time(&self, text: &str, name: &str, now: SystemTime) -> Result<i64, Refusal> {
        let malformed = || Refusal::Malformed {
            header: name.to_owned(),
            why: "not a Unix time in seconds",
        };
        let timestamp: i64 = text.trim().parse().map_err(|_| malformed())?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if timestamp < now.saturating_sub(tolerance) {
            return Err(Refusal::Stale(self.tolerance.as_secs()));
        }
        if timestamp > now.saturating_add(tolerance) {
            return Err(Refusal::Future(self.tolerance.as_secs()));
        }
        Ok(timestamp)
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, Refusal> {
    let value = headers
        .get(name)
        .ok_or_else(|| Refusal::MissingHeader(name.to_owned()))?;
    value.to_str().map_err(|_| Refusal::Malformed {
        header: name.to_owned(),
        why: "not visible ASCII",
    })
}

/// Constant time for equal lengths; a length is no secret (every MAC of a scheme has one).
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn mac(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        // HMAC takes keys of any length, so this cannot fail.
        let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
            return Vec::new();
        };
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, parts),
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn githubs_documented_vector() {
        let v = Verifier::new(
            &WebhookSignature::new(SignatureScheme::Github),
            vec![Secret::new("It's a Secret to Everybody")],
        )
        .expect("verifier");
        let h = headers(&[(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".into(),
        )]);
        assert!(v.verify(&h, b"Hello, World!", SystemTime::now()).is_ok());
        assert_eq!(
            v.verify(&h, b"Hello, World?", SystemTime::now()),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            v.verify(&HeaderMap::new(), b"x", SystemTime::now()),
            Err(Refusal::MissingHeader("x-hub-signature-256".into()))
        );
    }

    #[test]
    fn standard_webhooks_example_from_the_spec_repository() {
        // The example of standard-webhooks' own test suite.
        let v = Verifier::new(
            &WebhookSignature::new(SignatureScheme::StandardWebhooks),
            vec![Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
        )
        .expect("verifier")
        .tolerance(Duration::from_secs(u64::MAX / 4));
        let h = headers(&[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".into()),
            ("webhook-timestamp", "1614265330".into()),
            (
                "webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into(),
            ),
        ]);
        let at = UNIX_EPOCH + Duration::from_secs(1_614_265_330);
        let verified = v
            .verify(&h, br#"{"test": 2432232314}"#, at)
            .expect("accepted");
        assert_eq!(verified.id.as_deref(), Some("msg_p5jXN8AQM9LWM0D4loKWxJek"));
        let late = at + Duration::from_secs(301);
        let strict = v.clone().tolerance(DEFAULT_TOLERANCE);
        assert_eq!(
            strict.verify(&h, br#"{"test": 2432232314}"#, late),
            Err(Refusal::Stale(300))
        );
        assert_eq!(
            strict.verify(
                &h,
                br#"{"test": 2432232314}"#,
                at - Duration::from_secs(301)
            ),
            Err(Refusal::Future(300))
        );
    }

    #[test]
    fn options_a_scheme_fixes_are_refused() {
        let mut sig = WebhookSignature::new(SignatureScheme::Github);
        sig.header = Some("X-Other".into());
        assert!(Verifier::new(&sig, vec![Secret::new("s")]).is_err());
        let mut sig = WebhookSignature::new(SignatureScheme::Hmac);
        assert!(
            Verifier::new(&sig, vec![Secret::new("s")]).is_err(),
            "hmac needs a header"
        );
        sig.header = Some("X-Sig".into());
        sig.signed = Some("{timestamp}.{body}".into());
        assert!(
            Verifier::new(&sig, vec![Secret::new("s")]).is_err(),
            "{{timestamp}} needs its header"
        );
        assert!(
            Verifier::new(&WebhookSignature::new(SignatureScheme::Github), Vec::new()).is_err()
        );
        let err = Verifier::new(
            &WebhookSignature::new(SignatureScheme::StandardWebhooks),
            vec![Secret::new("whsec_!!!CANARY")],
        )
        .expect_err("not base64");
        assert!(!err.contains("CANARY"), "{err}");
    }

    #[test]
    fn debug_shows_no_secret() {
        let v = Verifier::new(
            &WebhookSignature::new(SignatureScheme::Github),
            vec![Secret::new("CANARY-secret")],
        )
        .expect("verifier");
        assert!(!format!("{v:?}").contains("CANARY"));
    }
}

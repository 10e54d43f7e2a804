//! Proof Key for Code Exchange (RFC 7636, method `S256`) and the `state` of an authorization
//! request: random values from the operating system's generator.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::error::Error;

/// A code verifier and its `S256` challenge.
pub(crate) struct Pkce {
    /// Sent with the code, to the token endpoint.
    pub(crate) verifier: String,
    /// Sent with the authorization request.
    pub(crate) challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, 43 characters of base64url (RFC 7636 §4.1 asks for 43
    /// to 128).
    pub(crate) fn new() -> Result<Self, Error> {
        let verifier = random_token(32)?;
        Ok(Self {
            challenge: challenge(&verifier),
            verifier,
        })
    }
}

/// `BASE64URL(SHA256(verifier))`, without padding.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

/// `bytes` random bytes as base64url, for a verifier or a `state`.
pub(crate) fn random_token(bytes: usize) -> Result<String, Error> {
    let mut buffer = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| Error::Config {
            key: "login".into(),
            message: "the operating system's random number generator failed".into(),
        })?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_long_enough_and_differ() {
        let a = Pkce::new().unwrap();
        let b = Pkce::new().unwrap();
        assert_eq!(a.verifier.len(), 43);
        assert!(a
            .verifier
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.challenge, challenge(&a.verifier));
    }
}

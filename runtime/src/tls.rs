//! Extra trusted certificate authorities and a client certificate for mutual TLS.

use crate::error::Error;
use crate::secret::Secret;

/// TLS settings of a connection, applied to every client it builds (token clients too).
#[derive(Clone, Default)]
pub(crate) struct Tls {
    /// PEM texts of certificate authorities trusted besides the built-in roots.
    pub(crate) roots: Vec<Vec<u8>>,
    /// PEM text of the client certificate (chain) and its private key.
    pub(crate) identity: Option<Secret>,
}

impl Tls {
    pub(crate) fn is_empty(&self) -> bool {
        self.roots.is_empty() && self.identity.is_none()
    }

    /// Adds the settings to `builder`; a PEM text that holds no usable certificate or key is an
    /// error naming the setting (never quoting the text, which may hold a key).
    pub(crate) fn apply(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, Error> {
        for pem in &self.roots {
            let certificates =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|_| Error::Config {
                    key: "tls.ca_file".into(),
                    message: "not a PEM file of certificates".into(),
                })?;
            if certificates.is_empty() {
                return Err(Error::Config {
                    key: "tls.ca_file".into(),
                    message: "the PEM file holds no certificate".into(),
                });
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let Some(identity) = &self.identity {
            let identity = reqwest::Identity::from_pem(identity.expose().as_bytes()).map_err(|_| {
                Error::Config {
                    key: "tls.client_cert".into(),
                    message: "the client certificate and key are not a usable PEM certificate and private key".into(),
                }
            })?;
            builder = builder.identity(identity);
        }
        Ok(builder)
    }
}

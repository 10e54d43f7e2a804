//! Declared error responses, decoded: a generated connector has one error enum per action whose
//! spec declares error responses (`4xx`, `5xx`, ranges, `default`), and [`Error::api_error`]
//! turns the runtime's error into it.
//!
//! The runtime's [`Error`] stays the one error of every call, so `?`, [`Error::attempts`],
//! [`Error::retry_after`] and the `is_*` predicates work as before; the typed view is asked for
//! when the caller wants to match on what the API said.

use std::fmt;

use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde::de::DeserializeOwned;

use super::debug::{Bounded, Headers, SHOWN_BODY};
use super::Error;
use crate::descriptor::media_essence;

/// The error enum generated for one action: a variant per declared error response, holding its
/// decoded body, and `Other` for the rest. Implemented by generated code; see
/// [`Error::api_error`].
pub trait ActionErrors: Sized {
    /// The id of the action whose error responses the enum describes.
    const ACTION: &'static str;

    /// Decodes a non-2xx answer of the action: the variant of its status (and content type), or
    /// `Other` with the answer when the status is not declared or its body does not decode.
    fn decode(answer: ErrorAnswer) -> Self;
}

/// A non-2xx answer of an action: its status, headers and body (at most 8 KiB, as the runtime
/// keeps it).
///
/// What an error enum's `Other` variant holds: an answer no declared response describes, or one
/// whose body did not decode into the declared type ([`problem`](Self::problem) says why).
/// `Debug` shows a bounded part of the headers and body.
#[derive(Clone)]
pub struct ErrorAnswer {
    status: u16,
    headers: Box<HeaderMap>,
    body: Bytes,
    problem: Option<String>,
}

impl ErrorAnswer {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body as received (at most 8 KiB).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Why the body did not decode into the type its status declares; `None` when the status is
    /// not declared at all.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Whether the `Content-Type` is `essence` (compared without parameters, ignoring case).
    pub fn content_type_is(&self, essence: &str) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| media_essence(ct) == essence)
    }

    /// Decodes the body as JSON; on failure the answer comes back with the reason kept.
    pub fn json<T: DeserializeOwned>(mut self) -> Result<T, Self> {
        let decoded = if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_value(serde_json::Value::Null)
        } else {
            serde_json::from_slice(&self.body)
        };
        decoded.map_err(|err| {
            self.problem = Some(format!("the body is not the declared JSON: {err}"));
            self
        })
    }

    /// The body as UTF-8 text; on failure the answer comes back with the reason kept.
    pub fn text(mut self) -> Result<String, Self> {
        match std::str::from_utf8(&self.body) {
            Ok(text) => Ok(text.to_owned()),
            Err(err) => {
                self.problem = Some(format!("the body is not UTF-8 text: {err}"));
                Err(self)
            }
        }
    }

    /// The body's bytes.
    pub fn bytes(self) -> Result<Vec<u8>, Self> {
        Ok(self.body.to_vec())
    }
}

impl fmt::Debug for ErrorAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorAnswer")
            .field("status", &self.status)
            .field("headers", &Headers(&self.headers))
            .field("body", &Bounded(&self.body, SHOWN_BODY))
            .field("problem", &self.problem)
            .finish()
    }
}

impl Error {
    /// The API's answer decoded into the error enum `E` of the action that failed, such as
    /// `errors::GetPetError` (generated for each action that declares error responses): the
    /// variant of the declared status with its decoded body, or `Other` with the status,
    /// headers and raw body when the status is not declared or the body does not decode.
    ///
    /// `None` when the call did not end with a non-2xx answer (a timeout, a connection failure,
    /// a token that could not be had, bad input) or when `E` is another action's enum. A call
    /// that was retried is decoded from its last answer, and `self` still tells how many
    /// attempts were made and how long the server asked to wait.
    ///
    /// ```ignore
    /// match client.get_pet(7).await {
    ///     Ok(pet) => println!("{}", pet.name),
    ///     Err(err) => match err.api_error::<errors::GetPetError>() {
    ///         Some(errors::GetPetError::NotFound(body)) => eprintln!("no pet: {}", body.message),
    ///         _ => return Err(err.into()),
    ///     },
    /// }
    /// ```
    pub fn api_error<E: ActionErrors>(&self) -> Option<E> {
        let answer = self.answer()?;
        (answer.0 == E::ACTION).then(|| E::decode(answer.1))
    }

    /// The non-2xx answer this error ended with, and the action it answered.
    pub fn error_answer(&self) -> Option<ErrorAnswer> {
        self.answer().map(|(_, answer)| answer)
    }

    /// The action a non-2xx answer came from, and the answer.
    pub(crate) fn answer(&self) -> Option<(&str, ErrorAnswer)> {
        match self {
            Error::Status {
                operation,
                status,
                headers,
                body,
            } => Some((
                operation,
                ErrorAnswer {
                    status: *status,
                    headers: headers.clone(),
                    body: body.clone(),
                    problem: None,
                },
            )),
            _ => self.last()?.answer(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Problem {
        code: u32,
    }

    #[derive(Debug)]
    enum GetThingError {
        NotFound(Problem),
        Teapot(String),
        Gone,
        Other(ErrorAnswer),
    }

    impl ActionErrors for GetThingError {
        const ACTION: &'static str = "getThing";
        fn decode(answer: ErrorAnswer) -> Self {
            match answer.status() {
                404 => answer.json().map(Self::NotFound),
                418 if answer.content_type_is("text/plain") => answer.text().map(Self::Teapot),
                410 => Ok(Self::Gone),
                _ => Err(answer),
            }
            .unwrap_or_else(Self::Other)
        }
    }

    fn status(operation: &str, status: u16, content_type: &str, body: &'static [u8]) -> Error {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
        Error::Status {
            operation: operation.into(),
            status,
            headers: Box::new(headers),
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn decodes_declared_statuses_and_keeps_the_rest() {
        let found = status("getThing", 404, "application/json", br#"{"code":7}"#);
        assert!(matches!(
            found.api_error::<GetThingError>(),
            Some(GetThingError::NotFound(Problem { code: 7 }))
        ));
        let teapot = status(
            "getThing",
            418,
            "text/plain; charset=utf-8",
            b"short and stout",
        );
        assert!(matches!(
            teapot.api_error::<GetThingError>(),
            Some(GetThingError::Teapot(text)) if text == "short and stout"
        ));
        assert!(matches!(
            status("getThing", 410, "text/html", b"").api_error::<GetThingError>(),
            Some(GetThingError::Gone)
        ));
        // A declared status whose body does not decode keeps the answer and says why.
        let Some(GetThingError::Other(answer)) =
            status("getThing", 404, "application/json", b"<html>").api_error::<GetThingError>()
        else {
            panic!("expected Other")
        };
        assert_eq!(answer.status(), 404);
        assert_eq!(answer.body(), b"<html>");
        assert!(answer.problem().unwrap().contains("not the declared JSON"));
        // An undeclared status is kept as it came.
        let Some(GetThingError::Other(answer)) =
            status("getThing", 503, "application/json", b"{}").api_error::<GetThingError>()
        else {
            panic!("expected Other")
        };
        assert_eq!((answer.status(), answer.problem()), (503, None));
        assert!(answer.content_type_is("application/json"));
    }

    #[test]
    fn another_actions_error_or_no_answer_is_none() {
        let other = status("listThings", 404, "application/json", br#"{"code":7}"#);
        assert!(other.api_error::<GetThingError>().is_none());
        let timeout = Error::Timeout {
            operation: "getThing".into(),
        };
        assert!(timeout.api_error::<GetThingError>().is_none());
    }

    #[test]
    fn a_retried_call_decodes_its_last_answer_and_keeps_its_attempts() {
        let err = Error::RetriesExhausted {
            operation: "getThing".into(),
            attempts: 3,
            last_status: Some(404),
            last: Box::new(status(
                "getThing",
                404,
                "application/json",
                br#"{"code":9}"#,
            )),
        };
        assert_eq!(err.attempts(), 3);
        assert!(matches!(
            err.api_error::<GetThingError>(),
            Some(GetThingError::NotFound(Problem { code: 9 }))
        ));
    }
}

//! The dynamic interface: operation input and output as plain JSON.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::Value;

use crate::catalogue::{Catalogue, Validators};
use crate::descriptor::{ConnectorDescriptor, OperationDescriptor};
use crate::error::Error;
use crate::pipeline::{self, Pipeline};
use crate::wire::args::Args;
use crate::wire::request::is_json;
use crate::wire::response::Response;

/// What a dynamic call returns: the status, the response headers the action declares for it,
/// and the body as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionOutput {
    /// The 2xx status.
    pub status: u16,
    /// The declared response headers that arrived, by declared name.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON, `null` when empty, a JSON string when the body is not JSON.
    pub body: Value,
}

/// A non-2xx answer of an action as the dynamic interface reports it: the status, the response
/// headers the action declares for it, the body as JSON, and which declared error response it
/// matched, with the name of that response's schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorOutput {
    /// The status.
    pub status: u16,
    /// The declared response headers that arrived, by declared name.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON, `null` when empty, a JSON string when the body is not JSON.
    pub body: Value,
    /// The declared response the status falls under (`404`, `4XX` or `default`); `None` when
    /// the action declares none for it.
    pub declared: Option<String>,
    /// The name of that response's schema (`Error`) when it is a named one.
    pub schema: Option<String>,
}

/// What a failed call answered, described by the connector's catalogue (see
/// `Connection::error_output`).
pub(crate) fn error_output(
    actions: &Actions,
    connector: &ConnectorDescriptor,
    err: &Error,
) -> Option<ErrorOutput> {
    let (action, answer) = err.answer()?;
    let described = actions
        .catalogue(connector)
        .ok()
        .flatten()
        .and_then(|c| c.action(action));
    let declared = described.and_then(|d| d.declared_response(answer.status()));
    let headers = described
        .map(|d| d.headers_for(answer.status()))
        .unwrap_or_default()
        .iter()
        .filter_map(|name| {
            let value = answer.headers().get(name.as_str())?.to_str().ok()?;
            Some((name.clone(), value.to_owned()))
        })
        .collect();
    Some(ErrorOutput {
        status: answer.status(),
        headers,
        body: body_to_json(answer.headers(), answer.body()),
        declared: declared.map(|(key, _)| key.to_owned()),
        schema: declared.and_then(|(_, name)| name.map(str::to_owned)),
    })
}

/// A connection's catalogue, parsed on first use, with its validators.
#[derive(Default)]
pub(crate) struct Actions {
    loaded: OnceLock<Result<Option<Catalogue>, String>>,
    validators: Validators,
    /// Where each action is among the connector's operations and the catalogue's actions, by
    /// id, built on first use: a call by name finds its action without scanning them all
    /// (GitHub's spec has a thousand).
    index: OnceLock<BTreeMap<String, Place>>,
}

/// Positions of one action id (the first of each list with that id, as a scan finds).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Place {
    operation: Option<usize>,
    action: Option<usize>,
}

impl Actions {
    /// Whether the catalogue marks `op` (a POST or PATCH) idempotent; other methods are not
    /// looked up, so typed GETs never parse the catalogue.
    pub(crate) fn marked_idempotent(
        &self,
        connector: &ConnectorDescriptor,
        op: &crate::descriptor::OperationDescriptor,
    ) -> bool {
        if pipeline::is_idempotent(op.method) {
            return false;
        }
        matches!(self.catalogue(connector), Ok(Some(catalogue))
            if self.action(connector, catalogue, &op.id).is_some_and(|a| a.idempotent))
    }

    /// Where `id` is among the operations and the catalogue's actions.
    fn place(
        &self,
        connector: &ConnectorDescriptor,
        catalogue: Option<&Catalogue>,
        id: &str,
    ) -> Place {
        let index = self.index.get_or_init(|| {
            let mut index: BTreeMap<String, Place> = BTreeMap::new();
            for (i, op) in connector.operations.iter().enumerate() {
                let place = index.entry(op.id.to_string()).or_default();
                place.operation.get_or_insert(i);
            }
            for (i, action) in catalogue.iter().flat_map(|c| c.actions.iter()).enumerate() {
                let place = index.entry(action.id.clone()).or_default();
                place.action.get_or_insert(i);
            }
            index
        });
        index.get(id).copied().unwrap_or_default()
    }

    /// The catalogue's action `id`.
    fn action<'c>(
        &self,
        connector: &ConnectorDescriptor,
        catalogue: &'c Catalogue,
        id: &str,
    ) -> Option<&'c crate::catalogue::Action> {
        let place = self.place(connector, Some(catalogue), id);
        catalogue.actions.get(place.action?)
    }

    pub(crate) fn catalogue(
        &self,
        connector: &ConnectorDescriptor,
    ) -> Result<Option<&Catalogue>, Error> {
        let loaded = self.loaded.get_or_init(|| match &connector.catalogue {
            None => Ok(None),
            Some(text) => crate::catalogue::parse(text)
                .map(Some)
                .map_err(|err| err.to_string()),
        });
        match loaded {
            Ok(catalogue) => Ok(catalogue.as_ref()),
            Err(message) => Err(Error::InvalidInput {
                message: message.clone(),
            }),
        }
    }
}

/// Runs `action` with JSON input: validated against the catalogue's input schema (when the
/// connector has one), then sent through the one executor.
pub(crate) async fn execute<'a>(
    pipeline: &Pipeline,
    base_url: impl Fn(&OperationDescriptor) -> Result<Cow<'a, str>, Error>,
    actions: &Actions,
    action: &str,
    input: Value,
) -> Result<ActionOutput, Error> {
    execute_with(pipeline, base_url, actions, action, input, false).await
}

/// Checks `input` against `action`'s input schema, sending nothing.
pub(crate) fn validate(
    pipeline: &Pipeline,
    actions: &Actions,
    action: &str,
    input: &Value,
) -> Result<(), Error> {
    let connector = &*pipeline.connector;
    let catalogue = actions.catalogue(connector)?;
    let place = actions.place(connector, catalogue, action);
    if place.operation.is_none() {
        return Err(Error::UnknownAction {
            name: action.to_owned(),
            hint: crate::error::hint(action, connector.operations.iter().map(|o| o.id.as_ref())),
        });
    }
    match catalogue.and_then(|c| Some((c, c.actions.get(place.action?)?))) {
        Some((catalogue, described)) => actions.validators.check(catalogue, described, input),
        None => Ok(()),
    }
}

/// Like [`execute`], with exactly one attempt when `single_attempt` is set (a ping).
/// `base_url` gives an operation's base URL: the connection's, or one of its own servers.
pub(crate) async fn execute_with<'a>(
    pipeline: &Pipeline,
    base_url: impl Fn(&OperationDescriptor) -> Result<Cow<'a, str>, Error>,
    actions: &Actions,
    action: &str,
    input: Value,
    single_attempt: bool,
) -> Result<ActionOutput, Error> {
    let connector = &*pipeline.connector;
    let catalogue = actions.catalogue(connector)?;
    let place = actions.place(connector, catalogue, action);
    let Some(op) = place.operation.and_then(|i| connector.operations.get(i)) else {
        return Err(Error::UnknownAction {
            name: action.to_owned(),
            hint: crate::error::hint(action, connector.operations.iter().map(|o| o.id.as_ref())),
        });
    };
    let described = catalogue.and_then(|c| Some((c, c.actions.get(place.action?)?)));
    if let Some((catalogue, described)) = described {
        actions.validators.check(catalogue, described, &input)?;
    }
    let described = described.map(|(_, described)| described);
    let args = Args::from_json(op, input)?;
    let options = pipeline::CallOptions {
        idempotent: described.is_some_and(|d| d.idempotent),
        single_attempt,
    };
    let base_url = base_url(op)?;
    let response = pipeline::execute(pipeline, &base_url, op, &args, options).await?;
    let headers = described
        // Most actions declare no response headers: nothing to look up then.
        .filter(|d| !d.output_headers.is_empty())
        .map(|d| d.headers_for(response.status()))
        .unwrap_or_default()
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name.as_str())?.to_str().ok()?;
            Some((name.clone(), value.to_owned()))
        })
        .collect();
    Ok(ActionOutput {
        status: response.status(),
        headers,
        body: response_to_json(&response),
    })
}

/// The response body as JSON: `null` when empty, a string when it is not JSON.
pub(crate) fn response_to_json(response: &Response) -> Value {
    body_to_json(response.headers(), response.bytes())
}

/// A body as JSON: `null` when empty, a string when it is not JSON.
fn body_to_json(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Value {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    let declared_other = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|media| !is_json(media));
    let text = || Value::String(String::from_utf8_lossy(body).into_owned());
    if declared_other {
        return text();
    }
    serde_json::from_slice(body).unwrap_or_else(|_| text())
}

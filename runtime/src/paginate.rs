//! Pagination: a listing action's pages as one lazy stream of records.
//!
//! The catalogue says where an action's records are and how its pages follow each other
//! ([`Paging`]); this module only follows that. A stream ends on an empty page, a page without a
//! next link or cursor, or a next link or cursor it has already followed (a server that repeats
//! itself would otherwise loop forever); [`ListOptions::max_pages`] bounds the rest.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::catalogue::{at_path, PageStyle, Paging};
use crate::connection::Connection;
use crate::error::Error;

/// Records, one at a time, fetched a page at a time.
pub type RecordStream = Pin<Box<dyn Stream<Item = Result<Value, Error>> + Send>>;

/// Records of type `T`, one at a time, fetched a page at a time.
pub type TypedStream<T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

/// The page limit when none is given: far above any honest listing, low enough to stop a server
/// that never ends.
pub const DEFAULT_MAX_PAGES: u64 = 10_000;

/// How much of a listing to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOptions {
    /// Records per page, sent in the action's page-size parameter when it has one.
    pub page_size: Option<u64>,
    /// Stop after this many records.
    pub max_records: Option<u64>,
    /// Stop with an error after this many pages.
    pub max_pages: u64,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            page_size: None,
            max_records: None,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }
}

/// Where a listing stands between two records: the input that fetches the page holding the next
/// record, and how many records of that page were already read. Plain data, so that a listing
/// can be continued later by another process (the MCP server's list cursors carry it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListPosition {
    /// The action's input for the page that holds the next record.
    pub input: Map<String, Value>,
    /// How many records at the start of that page were already read.
    #[serde(default)]
    pub skip: u64,
    /// The last cursor or next link followed, so that a server repeating it is caught across
    /// continuations too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed: Option<String>,
}

/// A listing's pages, read one record at a time, that can say where it stands
/// ([`Pager::position`]) and continue from there ([`Pager::resume`]).
pub struct Pager {
    connection: Connection,
    action: String,
    input: Map<String, Value>,
    paging: Paging,
    options: ListOptions,
    /// The property types of the action's input, to give a next link's parameters their type.
    input_types: Map<String, Value>,
    buffer: VecDeque<Value>,
    seen: HashSet<String>,
    /// The input that fetched the page now in `buffer`, how many of its records were read, and
    /// the cursor or link followed to it.
    page_input: Map<String, Value>,
    page_read: u64,
    page_followed: Option<String>,
    /// Records to drop from the first page fetched (a position in the middle of a page).
    skip: u64,
    followed: Option<String>,
    pages: u64,
    emitted: u64,
    page_number: u64,
    offset: u64,
    done: bool,
}

/// Lists the records of `action` called with `input`, following its pages lazily. An action the
/// catalogue knows no paging for is one page whose body is the array of records.
pub fn paginate(
    connection: &Connection,
    action: &str,
    input: Map<String, Value>,
    options: ListOptions,
) -> Result<RecordStream, Error> {
    let pager = Pager::start(connection, action, input, options)?;
    let stream = futures_util::stream::unfold(pager, |mut pager| async move {
        let item = pager.next().await?;
        Some((item, pager))
    });
    Ok(Box::pin(stream))
}

/// One page of a listing, as [`pages`] yields it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's records.
    pub records: Vec<Value>,
    /// The input that fetches the next page (the listing's input with the next page number,
    /// offset, cursor or link parameters), `None` after the last page. Stored, it is a resume
    /// point: [`pages`] called with it goes on from that page, in another process too.
    pub next: Option<Map<String, Value>>,
}

/// Pages, one at a time, each fetched when the previous one has been taken.
pub type PageStream = Pin<Box<dyn Stream<Item = Result<Page, Error>> + Send>>;

/// Lists the records of `action` called with `input` a page at a time, each page with the
/// input of the next one, so that a reader that stores it can resume there
/// ([`ListOptions::max_records`] does not apply: pages are whole).
pub fn pages(
    connection: &Connection,
    action: &str,
    input: Map<String, Value>,
    options: ListOptions,
) -> Result<PageStream, Error> {
    let pager = Pager::start(connection, action, input, options)?;
    let stream = futures_util::stream::unfold(pager, |mut pager| async move {
        if pager.done {
            return None;
        }
        if pager.pages >= pager.options.max_pages {
            pager.done = true;
            let err = Error::InvalidInput {
                message: format!(
                    "`{}` still had more pages after {} pages (the page limit); stopped",
                    pager.action, pager.pages
                ),
            };
            return Some((Err(err), pager));
        }
        if let Err(err) = pager.fetch().await {
            pager.done = true;
            return Some((Err(err), pager));
        }
        let page = Page {
            records: pager.buffer.drain(..).collect(),
            next: (!pager.done).then(|| pager.input.clone()),
        };
        Some((Ok(page), pager))
    });
    Ok(Box::pin(stream))
}

/// Like [`paginate`], with each record decoded into `T`: a record that does not decode is an
/// [`Error::DecodeRecord`] naming its index in the listing, and the stream goes on with the next.
pub fn paginate_typed<T>(
    connection: &Connection,
    action: &str,
    input: Map<String, Value>,
    options: ListOptions,
) -> Result<TypedStream<T>, Error>
where
    T: DeserializeOwned + Send + 'static,
{
    let records = paginate(connection, action, input, options)?;
    Ok(typed_records(action.to_owned(), records))
}

/// `records` decoded into `T`, each failure naming the record's index (failures to fetch a page
/// pass through and are not counted as records).
pub(crate) fn typed_records<T>(action: String, records: RecordStream) -> TypedStream<T>
where
    T: DeserializeOwned + Send + 'static,
{
    use futures_util::StreamExt;
    let mut next_index = 0u64;
    Box::pin(records.map(move |record| {
        let record = record?;
        let index = next_index;
        next_index += 1;
        let snippet: String = record.to_string().chars().take(64).collect();
        serde_json::from_value(record).map_err(|source| Error::DecodeRecord {
            operation: action.clone(),
            index,
            snippet,
            source,
        })
    }))
}

impl Pager {
    /// A listing of `action` called with `input`, from its first page.
    pub fn start(
        connection: &Connection,
        action: &str,
        input: Map<String, Value>,
        options: ListOptions,
    ) -> Result<Pager, Error> {
        let catalogue = connection.catalogue()?;
        let described = catalogue.and_then(|c| c.action(action));
        let paging = described.and_then(|a| a.paging.clone()).unwrap_or(Paging {
            records: Vec::new(),
            pagination: None,
        });
        let input_types = described
            .and_then(|a| a.input_schema.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut pager = Pager {
            connection: connection.clone(),
            action: action.to_owned(),
            page_input: input.clone(),
            input,
            options,
            input_types,
            buffer: VecDeque::new(),
            seen: HashSet::new(),
            page_read: 0,
            page_followed: None,
            skip: 0,
            followed: None,
            pages: 0,
            emitted: 0,
            page_number: 0,
            offset: 0,
            done: false,
            paging,
        };
        pager.start_input();
        Ok(pager)
    }

    /// A listing of `action` continued at `position` (which [`Pager::position`] gave). The page
    /// size is the one the position's input carries; `options.page_size` is not applied again.
    pub fn resume(
        connection: &Connection,
        action: &str,
        position: ListPosition,
        options: ListOptions,
    ) -> Result<Pager, Error> {
        let options = ListOptions {
            page_size: None,
            ..options
        };
        let mut pager = Pager::start(connection, action, position.input, options)?;
        pager.skip = position.skip;
        if let Some(followed) = position.followed {
            pager.seen.insert(followed.clone());
            pager.page_followed = Some(followed.clone());
            pager.followed = Some(followed);
        }
        Ok(pager)
    }

    /// The next record, fetching the next page when the current one is read; `None` at the end.
    pub async fn next_record(&mut self) -> Option<Result<Value, Error>> {
        self.next().await
    }

    /// Where the listing stands: `None` when every record has been read, else the position of
    /// the next record (which a later [`Pager::resume`] starts at).
    pub fn position(&self) -> Option<ListPosition> {
        if !self.buffer.is_empty() {
            return Some(ListPosition {
                input: self.page_input.clone(),
                skip: self.page_read,
                followed: self.page_followed.clone(),
            });
        }
        if self.done {
            return None;
        }
        // The next page, less the records a resumed position still has to drop from it.
        Some(ListPosition {
            input: self.input.clone(),
            skip: self.skip,
            followed: self.followed.clone(),
        })
    }

    /// Puts the first page's parameters into the input.
    fn start_input(&mut self) {
        let Some(pagination) = &self.paging.pagination else {
            return;
        };
        if let (Some(size), Some(param)) = (self.options.page_size, &pagination.size_param) {
            self.input.insert(param.clone(), size.into());
        }
        match &pagination.style {
            PageStyle::Page { param, first } => {
                self.page_number = *first;
                let first = self
                    .input
                    .get(param)
                    .and_then(Value::as_u64)
                    .unwrap_or(*first);
                self.page_number = first;
                self.input.insert(param.clone(), first.into());
            }
            PageStyle::Offset { param } => {
                self.offset = self.input.get(param).and_then(Value::as_u64).unwrap_or(0);
            }
            _ => {}
        }
    }

    async fn next(&mut self) -> Option<Result<Value, Error>> {
        loop {
            if self
                .options
                .max_records
                .is_some_and(|max| self.emitted >= max)
            {
                return None;
            }
            if let Some(record) = self.buffer.pop_front() {
                self.emitted += 1;
                self.page_read += 1;
                return Some(Ok(record));
            }
            if self.done {
                return None;
            }
            if self.pages >= self.options.max_pages {
                self.done = true;
                return Some(Err(Error::InvalidInput {
                    message: format!(
                        "`{}` still had more pages after {} pages (the page limit); stopped",
                        self.action, self.pages
                    ),
                }));
            }
            if let Err(err) = self.fetch().await {
                self.done = true;
                return Some(Err(err));
            }
        }
    }

    /// Fetches one page into the buffer and works out the next page's input.
    async fn fetch(&mut self) -> Result<(), Error> {
        let page_input = self.input.clone();
        let page_followed = self.followed.clone();
        let output = self
            .connection
            .execute_action(&self.action, Value::Object(page_input.clone()))
            .await?;
        self.pages += 1;
        self.page_input = page_input;
        self.page_followed = page_followed;
        self.page_read = 0;
        let records = match at_path(&output.body, &self.paging.records) {
            Some(Value::Array(items)) => items.clone(),
            // A page without the records property (often the last one) holds none.
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(Error::InvalidInput {
                    message: format!(
                        "the response of `{}` has no array of records at `{}`",
                        self.action,
                        self.paging.records.join(".")
                    ),
                })
            }
        };
        let count = records.len() as u64;
        self.buffer.extend(records);
        // A position in the middle of a page: the records before it were read already.
        let skip = std::mem::take(&mut self.skip).min(count);
        self.buffer.drain(..skip as usize);
        self.page_read = skip;
        let Some(pagination) = self.paging.pagination.clone() else {
            self.done = true;
            return Ok(());
        };
        if count == 0 {
            self.done = true;
            return Ok(());
        }
        match &pagination.style {
            PageStyle::Page { param, .. } => {
                self.page_number += 1;
                self.input.insert(param.clone(), self.page_number.into());
            }
            PageStyle::Offset { param } => {
                self.offset += count;
                self.input.insert(param.clone(), self.offset.into());
            }
            PageStyle::Cursor { param, next } => match token(at_path(&output.body, next)) {
                Some(cursor) if self.seen.insert(cursor.clone()) => {
                    self.input
                        .insert(param.clone(), Value::String(cursor.clone()));
                    self.followed = Some(cursor);
                }
                _ => self.done = true,
            },
            PageStyle::NextUrl { next } => {
                let url = token(at_path(&output.body, next));
                self.follow(url)?;
            }
            PageStyle::LinkHeader => {
                let url = output
                    .headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("link"))
                    .and_then(|(_, value)| next_link(value));
                self.follow(url)?;
            }
        }
        Ok(())
    }

    /// Takes the next page's query parameters from its URL, unless there is none or it was
    /// followed before.
    fn follow(&mut self, url: Option<String>) -> Result<(), Error> {
        let Some(url) = url.filter(|u| self.seen.insert(u.clone())) else {
            self.done = true;
            return Ok(());
        };
        self.followed = Some(url.clone());
        // A relative link is relative to the listing's own base URL.
        let base = match self.connection.connector().operation(&self.action) {
            Some(op) => format!("{}/", self.connection.base_url_for(op)?),
            None => format!("{}/", self.connection.base_url()),
        };
        let parsed = reqwest::Url::parse(&base)
            .and_then(|base| base.join(&url))
            .map_err(|err| Error::InvalidInput {
                message: format!(
                    "the next page link of `{}` is not a URL: {err}",
                    self.action
                ),
            })?;
        for (name, value) in parsed.query_pairs() {
            let Some(schema) = self.input_types.get(name.as_ref()) else {
                return Err(Error::InvalidInput {
                    message: format!(
                        "the next page link of `{}` carries the query parameter `{name}`, which the action does not declare",
                        self.action
                    ),
                });
            };
            let value = typed(schema, &value);
            self.input.insert(name.into_owned(), value);
        }
        Ok(())
    }
}

/// A cursor or URL: a non-empty string, or a number as text.
fn token(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A query parameter's text as the JSON value its schema wants (numbers and booleans parsed).
pub(crate) fn typed(schema: &Value, text: &str) -> Value {
    let kind = schema.get("type").and_then(Value::as_str);
    let parsed = match kind {
        Some("integer") => text.parse::<i64>().ok().map(Value::from),
        Some("number") => text.parse::<f64>().ok().map(Value::from),
        Some("boolean") => text.parse::<bool>().ok().map(Value::from),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// The `rel="next"` URL of a `Link` header (RFC 8288).
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|param| {
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        is_next.then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_reads_rel_next_among_others() {
        let header =
            r#"<https://x.test/a?page=1>; rel="prev", <https://x.test/a?page=3>; rel="next last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://x.test/a?page=3")
        );
        assert_eq!(next_link(r#"<https://x.test/a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn query_values_take_their_schema_type() {
        let int = serde_json::json!({"type": "integer"});
        assert_eq!(typed(&int, "3"), Value::from(3));
        assert_eq!(typed(&int, "x"), Value::from("x"));
        assert_eq!(typed(&serde_json::json!({}), "3"), Value::from("3"));
    }
}

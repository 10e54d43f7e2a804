//! Bounded reads of response bodies: nothing the network sends is read without a limit, and
//! a read that hits one says so instead of growing with whatever the server sends.

use bytes::{Bytes, BytesMut};

/// Largest response head (status line and headers) the client reads: hyper's read buffer,
/// which refuses a longer head with a parse error. Named here for error messages; HTTP/2 header
/// lists are held to the same size by the client settings.
pub(crate) const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// Why a capped read stopped.
pub(crate) enum ReadError {
    /// The body is longer than the limit; the rest was not read and the connection is dropped.
    TooLarge,
    /// The transport failed.
    Transport(reqwest::Error),
}

/// The whole body, when it is at most `limit` bytes.
pub(crate) async fn read_capped(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Bytes, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(ReadError::TooLarge);
    }
    match read_until(response, limit).await {
        Ok((body, true)) => Ok(body),
        Ok((_, false)) => Err(ReadError::TooLarge),
        Err(err) => Err(ReadError::Transport(err)),
    }
}

/// Reads until the body ends or more than `limit` bytes have arrived (at most one chunk more):
/// the bytes read, and whether they are the whole body.
pub(crate) async fn read_until(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<(Bytes, bool), reqwest::Error> {
    let mut body = Gathered::Empty;
    while let Some(chunk) = response.chunk().await? {
        if body.push(chunk) > limit {
            return Ok((body.freeze(), false));
        }
    }
    Ok((body.freeze(), true))
}

/// The chunks of a body read so far. A body that arrives in one chunk (most small ones) is
/// kept as that chunk, without a copy.
enum Gathered {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Gathered {
    /// Adds a chunk; the length so far.
    fn push(&mut self, chunk: Bytes) -> usize {
        match self {
            Gathered::Empty => {
                let len = chunk.len();
                *self = Gathered::One(chunk);
                len
            }
            Gathered::One(first) => {
                let mut many = BytesMut::with_capacity(first.len() + chunk.len());
                many.extend_from_slice(first);
                many.extend_from_slice(&chunk);
                let len = many.len();
                *self = Gathered::Many(many);
                len
            }
            Gathered::Many(many) => {
                many.extend_from_slice(&chunk);
                many.len()
            }
        }
    }

    fn freeze(self) -> Bytes {
        match self {
            Gathered::Empty => Bytes::new(),
            Gathered::One(bytes) => bytes,
            Gathered::Many(many) => many.freeze(),
        }
    }
}

/// Reads at most `limit` bytes; a failure part-way keeps what has arrived.
pub(crate) async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Bytes {
    let mut body = BytesMut::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())])
            }
            Ok(None) | Err(_) => break,
        }
    }
    body.freeze()
}

/// Whether the client gave up because the response head exceeded [`MAX_HEAD_BYTES`] (or held
/// more headers than it accepts).
pub(crate) fn head_too_large(err: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(err) = source {
        // `is_parse_too_large` exists only with hyper's server feature, which a client does not
        // build; a parse error's text tells the same.
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(|err| err.is_parse() && err.to_string().contains("too large"))
        {
            return true;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_gathered_in_order() {
        let mut body = Gathered::Empty;
        assert_eq!(body.push(Bytes::from_static(b"ab")), 2);
        assert!(matches!(&body, Gathered::One(one) if one.as_ref() == b"ab"));
        assert_eq!(body.push(Bytes::from_static(b"c")), 3);
        assert_eq!(body.push(Bytes::from_static(b"de")), 5);
        assert_eq!(body.freeze().as_ref(), b"abcde");
        assert!(Gathered::Empty.freeze().is_empty());
    }
}

//! The connections [`super::serve`] accepts: TCP, with the HTTP/1 parser's own refusals given
//! this API's error body.
//!
//! A request whose head hyper cannot read (a URI longer than 65,534 bytes, more than 100 headers,
//! a head larger than its read buffer, a malformed request line or header) never reaches the
//! router: hyper answers it itself, `400`, `414` or `431` with an empty body, and closes the
//! connection. hyper has no hook for that answer, so this layer recognises it on its way out
//! (an error status without a `Content-Type`: every answer of the router is JSON and says so)
//! and sends the same status with an [`ErrorBody`](super::body::ErrorBody) instead.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::error::ApiError;

/// A TCP listener whose connections are [`Connection`]s.
pub(super) struct Listener(pub(super) TcpListener);

impl axum::serve::Listener for Listener {
    type Io = Connection;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = axum::serve::Listener::accept(&mut self.0).await;
        (Connection::new(stream), address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A TCP stream whose writes pass through untouched, but for hyper's own bodiless answers.
pub(super) struct Connection {
    stream: TcpStream,
    /// The answer written in place of hyper's, and how much of it is written, with the length
    /// of hyper's answer, reported as written once the replacement is.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl Connection {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            replacing: None,
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacing.is_none() {
            match replacement(buf) {
                Some(answer) => this.replacing = Some((answer, 0, buf.len())),
                None => return Pin::new(&mut this.stream).poll_write(cx, buf),
            }
        }
        // A write that returned Pending is retried with the same buffer: the replacement goes on
        // from where it stopped.
        let Some((answer, written, original)) = &mut this.replacing else {
            unreachable!("set above")
        };
        while *written < answer.len() {
            let n = ready!(Pin::new(&mut this.stream).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        let original = *original;
        this.replacing = None;
        Poll::Ready(Ok(original))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// This API's answer in place of `written`, when `written` is hyper's own answer to a request
/// it could not read: an HTTP/1 head (every body this API writes is JSON, so no body write
/// starts like one) with the status `400`, `414` or `431` and no `Content-Type`.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&written[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?
        .get(..3)?;
    if lines.any(|line| {
        line.split_once(':')
            .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("content-type"))
    }) {
        return None;
    }
    let error = match code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())?
    {
        StatusCode::BAD_REQUEST => ApiError::malformed_request(),
        StatusCode::URI_TOO_LONG => ApiError::uri_too_long(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::header_fields_too_large(),
        _ => return None,
    };
    let body = serde_json::to_vec(&error.body).ok()?;
    let mut answer = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(answer: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(answer.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), serde_json::from_str(body).unwrap())
    }

    #[test]
    fn hypers_bodiless_refusals_get_this_apis_error_body() {
        for (written, error) in [
            (
                "HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 00:00:00 GMT\r\n\r\n",
                "uri_too_long",
            ),
            (
                "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
                "header_fields_too_large",
            ),
            (
                "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
                "malformed_request",
            ),
        ] {
            let answer = replacement(written.as_bytes()).expect(written);
            let (head, body) = parts(&answer);
            assert!(head.starts_with(&written[..12]), "{head}");
            assert!(head.contains("content-type: application/json"), "{head}");
            assert_eq!(body["error"], error);
            assert!(!body["message"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn the_routers_answers_pass_untouched() {
        for written in [
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n",
            "{\"error\":\"HTTP/1.1 414 \\r\\n\\r\\n\"}",
            "HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n",
        ] {
            assert_eq!(replacement(written.as_bytes()), None, "{written}");
        }
    }
}

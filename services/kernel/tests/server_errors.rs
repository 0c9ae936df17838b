//! How a store error from the wire is classified: a server that answers HTTP 500, with or
//! without DynamoDB's error code, is unwell, so the step retries (`StoreUnavailable`); only a
//! request the server refuses (4xx) is `StoreFailed`, which starts compensation at once.
//!
//! The server is a local HTTP endpoint that answers every request with one fixed response, and
//! the client is the one the functions build for an endpoint (`local_client`), SDK retries and
//! all: what reaches the saga is what is left after them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kernel::dynamo::{IdempotencyKey, local_client, stored_result};
use kernel::{InfraError, InfraErrorKind};

/// An endpoint answering every request with `status` and `body`; the count of requests it got.
fn endpoint(status: &'static str, body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    // Never joined: it serves until the test binary exits.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
            let mut length = 0;
            let mut line = String::new();
            // The whole request first: a response before the body is read makes the client see
            // a reset connection instead of the answer.
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut request_body = vec![0; length];
            if reader.read_exact(&mut request_body).is_err() {
                continue;
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, requests)
}

/// What a read of the store gets from an endpoint answering `status` with `body`, and how many
/// requests the client sent.
async fn read_from(status: &'static str, body: &'static str) -> (InfraError, usize) {
    let (url, requests) = endpoint(status, body);
    let client = local_client(&url, "us-east-1", "server-errors-test");
    let key = IdempotencyKey::parse("exec-1:ReserveFlight").expect("a valid key");
    let error = stored_result::<serde_json::Value>(&client, "trips", &key)
        .await
        .expect_err("the endpoint only answers errors");
    (error, requests.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_500_without_an_error_code_is_transient() {
    let (error, requests) = read_from("500 Internal Server Error", "{}").await;
    assert_eq!(error.kind(), InfraErrorKind::Unavailable, "{error}");
    assert_eq!(
        error.to_string().split(':').next(),
        Some("StoreUnavailable")
    );
    assert!(error.is_transient());
    // The SDK retried it too before giving up: a server error is worth another try everywhere.
    assert!(requests > 1, "{requests} request(s)");
}

#[tokio::test]
async fn dynamodbs_internal_server_error_is_transient() {
    let (error, requests) = read_from(
        "500 Internal Server Error",
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#,
    )
    .await;
    assert_eq!(error.kind(), InfraErrorKind::Unavailable, "{error}");
    assert!(error.is_transient());
    assert!(requests > 1, "{requests} request(s)");
}

#[tokio::test]
async fn a_request_the_server_refuses_is_permanent() {
    let (error, requests) = read_from(
        "400 Bad Request",
        r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"One or more parameter values were invalid"}"#,
    )
    .await;
    assert_eq!(error.kind(), InfraErrorKind::Failed, "{error}");
    assert!(!error.is_transient());
    assert_eq!(requests, 1);
}

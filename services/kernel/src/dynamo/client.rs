//! The DynamoDB clients: the HTTP client every SDK client here uses, and a client for a local
//! endpoint (an emulator such as moto or DynamoDB Local).
//!
//! The SDK's `default-https-client` feature is off on purpose: it brings rustls on aws-lc, whose
//! C build (aws-lc-sys, cmake) is the longest single unit of every cold build and is built a
//! second time by the check-mode lint builds. rustls on ring is the same TLS stack with ring's
//! primitives; what it lacks is aws-lc's post-quantum hybrid key exchange (X25519MLKEM768),
//! which DynamoDB's endpoints accept but do not require. Everything else (proxy settings from
//! the environment, connect and read timeouts from the SDK's config, connection pooling) is what
//! the SDK's default client does.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

/// The HTTP client of every DynamoDB client: rustls with ring, HTTP and HTTPS endpoints.
///
/// Pass it to `aws_config::defaults(..).http_client(..)` (the Lambda functions) or to
/// `aws_sdk_dynamodb::Config::builder().http_client(..)`; a client built without one fails
/// its first request with "No HTTP client was available to send this request".
pub fn https_client() -> SharedHttpClient {
    // The SDK builds its default client the same way (aws-smithy-runtime's
    // `default_https_client`), with aws-lc where we select ring.
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// A client for a local DynamoDB-compatible endpoint such as `http://127.0.0.1:8000`.
///
/// Dummy credentials (emulators accept any) and the given region, so that nothing is read from
/// the user's AWS configuration and no real account can be touched; `who` names the caller in
/// the credentials' provider name, which the SDK's logs show.
///
/// ```
/// let client = kernel::dynamo::local_client("http://127.0.0.1:8000", "us-east-1", "docs");
/// assert_eq!(client.config().region().map(|r| r.as_ref()), Some("us-east-1"));
/// ```
pub fn local_client(endpoint: &str, region: &'static str, who: &'static str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client())
        .region(Region::new(region))
        .credentials_provider(Credentials::new("local", "local", None, None, who))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    use super::local_client;

    /// The first bytes the client writes to `<scheme>://127.0.0.1:<port>`, from a listener that
    /// answers nothing; `None` when the client never connects or never writes.
    async fn first_bytes(scheme: &str) -> Option<[u8; 3]> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("bound").port();
        let peer = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(_) => return None,
                }
            };
            stream.set_nonblocking(false).ok()?;
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .ok()?;
            let mut first = [0_u8; 3];
            stream.read_exact(&mut first).ok()?;
            Some(first)
        });
        let client = local_client(&format!("{scheme}://127.0.0.1:{port}"), "us-east-1", "test");
        // The listener never answers: the request can only time out or fail; what matters is
        // what reached the wire.
        let _ = tokio::time::timeout(Duration::from_secs(5), client.list_tables().send()).await;
        peer.join().expect("the listener thread")
    }

    #[tokio::test]
    async fn an_https_endpoint_gets_a_tls_handshake() {
        // A TLS record of type handshake (0x16), protocol major version 3.
        let first = first_bytes("https")
            .await
            .expect("the client connects and writes");
        assert_eq!(first[..2], [0x16, 0x03], "not a TLS handshake: {first:?}");
    }

    #[tokio::test]
    async fn an_http_endpoint_gets_plain_http() {
        let first = first_bytes("http")
            .await
            .expect("the client connects and writes");
        assert_eq!(&first, b"POS");
    }
}

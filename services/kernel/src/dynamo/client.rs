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
//!
//! A Lambda function's clients take [`lambda_sdk_config`]: the region, credentials and endpoint
//! Lambda puts in the environment, read directly. aws-config's default chain reads the same
//! variables first, but its `load` builds every provider it might fall back on before that: an
//! STS client for web identity tokens and two IMDS clients, each of which builds this HTTP
//! client's TLS set-up. With the DynamoDB client's own, that was the set-up four times over, about
//! 30 % of every function's init once the roots were compiled in (docs/benchmarks.md).
//!
//! One thing differs on purpose: the roots of trust are Mozilla's, compiled in
//! (`webpki-root-certs`), not the machine's. The SDK's default reads the platform store
//! (`rustls-native-certs`: every file of `/etc/ssl/certs` or `/etc/pki/tls/certs`, some 290 PEM
//! files on Debian) and parses them when the client is built, which was 5 of the 7 ms of every
//! Lambda function's init (docs/benchmarks.md). Mozilla's set holds the Amazon Trust Services
//! roots that every AWS endpoint chains to; a private CA (a TLS-inspecting proxy, say) is not
//! trusted, as it would not be by an SDK built without the platform store either.
//!
//! And the connector (the TLS configuration with those roots parsed, the connection pool) is
//! built at a client's first request only: [`https_client`] leaves out the SDK's check at client
//! construction, which built one just to drop it. That was a millisecond of every function's
//! init, a third of it (docs/benchmarks.md).

use std::sync::LazyLock;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use base64::Engine;

/// The HTTP client of every DynamoDB client: rustls with ring, HTTP and HTTPS endpoints, Mozilla's
/// roots of trust.
///
/// [`lambda_sdk_config`] uses it (the Lambda functions); pass it to
/// `aws_config::defaults(..).http_client(..)` (code run by hand) or to
/// `aws_sdk_dynamodb::Config::builder().http_client(..)`; a client built without one fails
/// its first request with "No HTTP client was available to send this request".
pub fn https_client() -> SharedHttpClient {
    // The SDK builds its default client the same way (aws-smithy-runtime's
    // `default_https_client`), with aws-lc where we select ring.
    SharedHttpClient::new(ConnectOnFirstRequest(
        Builder::new().build_with_connector_fn(|settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .tls_context(mozilla_roots());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        }),
    ))
}

/// The HTTP client without its check at client construction; everything else is passed on.
///
/// aws-smithy-http-client's client checks the configuration of every SDK client built on it by
/// building a connector and dropping it, so that the platform's roots of trust are read at
/// init rather than at the first request (they are cached for the process). Ours are compiled
/// in and parsed into each connector built: that build was only thrown away, once per SDK client
/// at every cold start, before the first request built the connector it keeps (shared by every
/// client of this HTTP client, one per timeout setting). docs/benchmarks.md has the figures.
#[derive(Debug)]
struct ConnectOnFirstRequest(SharedHttpClient);

impl HttpClient for ConnectOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        config: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, config)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The SDK configuration of a Lambda function, from what Lambda sets in every function's
/// environment: `AWS_REGION`, and the execution role's credentials in `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (valid for the life of the execution
/// environment). `AWS_ENDPOINT_URL`, when set, replaces every service's endpoint, as the SDK's
/// default configuration does (a local emulator; the cold-start bench). Retries and timeouts are
/// the SDK's defaults for the behaviour version, as aws-config leaves them.
///
/// What aws-config would add and a function here does not use: profile files, IMDS, web
/// identity and container credentials (SnapStart and Lambda Managed Instances serve credentials
/// from a container endpoint instead: a function moved to either needs aws-config's chain back),
/// and the per-service and FIPS/dual-stack variables.
///
/// ```
/// let config = kernel::dynamo::lambda_sdk_config_from(|name| match name {
///     "AWS_REGION" => Some("ap-northeast-1".to_owned()),
///     "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".to_owned()),
///     _ => None,
/// })?;
/// assert_eq!(config.region().map(|r| r.as_ref()), Some("ap-northeast-1"));
/// assert_eq!(config.endpoint_url(), None);
/// # Ok::<(), String>(())
/// ```
///
/// # Errors
/// When the region or the credentials are not in the environment, naming the variable.
pub fn lambda_sdk_config() -> Result<aws_types::SdkConfig, String> {
    lambda_sdk_config_from(|name| std::env::var(name).ok())
}

/// [`lambda_sdk_config`] with the environment read through `var`.
///
/// # Errors
/// As [`lambda_sdk_config`].
pub fn lambda_sdk_config_from(
    var: impl Fn(&str) -> Option<String>,
) -> Result<aws_types::SdkConfig, String> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    let required = |name: &str| set(name).ok_or_else(|| format!("{name} is not set"));
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        set("AWS_SESSION_TOKEN"),
        None,
        "Lambda environment",
    );
    let mut config = aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(required("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client());
    config.set_endpoint_url(set("AWS_ENDPOINT_URL"));
    Ok(config.build())
}

/// Mozilla's roots as a trust store without the platform's. The SDK takes extra roots as PEM
/// only, and parses them into each connector it builds: the DER is encoded once per process.
fn mozilla_roots() -> TlsContext {
    static PEM: LazyLock<String> = LazyLock::new(|| {
        let mut pem = String::new();
        for root in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            pem.push_str("-----BEGIN CERTIFICATE-----\n");
            pem.push_str(&base64::engine::general_purpose::STANDARD.encode(root.as_ref()));
            pem.push_str("\n-----END CERTIFICATE-----\n");
        }
        pem
    });
    let roots = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(PEM.as_bytes());
    TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .expect("a trust store alone is a valid TLS context")
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

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, ConfigBag, Credentials, Region, RuntimeComponentsBuilder,
    };
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

    use super::{
        ConnectOnFirstRequest, HttpClient, SharedHttpClient, lambda_sdk_config_from, local_client,
    };

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

    /// Lambda's variables, with `overrides` on top (`None` removes one).
    fn lambda_environment(
        overrides: Vec<(&'static str, Option<&'static str>)>,
    ) -> impl Fn(&str) -> Option<String> {
        move |name| {
            if let Some((_, value)) = overrides.iter().find(|(n, _)| *n == name) {
                return value.map(ToOwned::to_owned);
            }
            match name {
                "AWS_REGION" => Some("eu-west-3".to_owned()),
                "AWS_ACCESS_KEY_ID" => Some("ASIAEXAMPLE".to_owned()),
                "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
                "AWS_SESSION_TOKEN" => Some("token".to_owned()),
                _ => None,
            }
        }
    }

    #[tokio::test]
    async fn a_lambda_config_carries_the_environments_region_and_credentials() {
        use aws_sdk_dynamodb::config::ProvideCredentials;

        let config = lambda_sdk_config_from(lambda_environment(vec![])).unwrap();
        assert_eq!(config.region().map(AsRef::as_ref), Some("eu-west-3"));
        assert_eq!(config.endpoint_url(), None);
        let credentials = config
            .credentials_provider()
            .expect("credentials")
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
        assert!(config.http_client().is_some(), "the kernel's HTTP client");
    }

    #[test]
    fn a_lambda_config_takes_the_endpoint_override() {
        let config = lambda_sdk_config_from(lambda_environment(vec![(
            "AWS_ENDPOINT_URL",
            Some("http://127.0.0.1:8000"),
        )]))
        .unwrap();
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:8000"));
        let blank =
            lambda_sdk_config_from(lambda_environment(vec![("AWS_ENDPOINT_URL", Some(""))]));
        assert_eq!(blank.unwrap().endpoint_url(), None);
    }

    #[test]
    fn a_lambda_config_names_what_the_environment_lacks() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let error =
                lambda_sdk_config_from(lambda_environment(vec![(missing, None)])).unwrap_err();
            assert_eq!(error, format!("{missing} is not set"));
        }
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

    /// What the SDK asked of an HTTP client: checks at client construction, and connectors.
    #[derive(Debug, Default)]
    struct Asked {
        checks: AtomicUsize,
        connectors: AtomicUsize,
    }

    /// An HTTP client that counts in `Asked` and whose connectors refuse every request.
    #[derive(Debug)]
    struct Counting(Arc<Asked>);

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.0.connectors.fetch_add(1, Ordering::SeqCst);
            SharedHttpConnector::new(Refusing)
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.checks.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[derive(Debug)]
    struct Refusing;

    impl HttpConnector for Refusing {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            HttpConnectorFuture::ready(Err(ConnectorError::io("refused".into())))
        }
    }

    #[tokio::test]
    async fn no_connector_is_built_before_the_first_request() {
        let asked = Arc::new(Asked::default());
        let http = SharedHttpClient::new(ConnectOnFirstRequest(SharedHttpClient::new(Counting(
            asked.clone(),
        ))));
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(RetryConfig::disabled())
            .build();
        let client = Client::from_conf(config);
        assert_eq!(
            asked.checks.load(Ordering::SeqCst),
            0,
            "the check is not passed on"
        );
        assert_eq!(asked.connectors.load(Ordering::SeqCst), 0);

        let refused = client.list_tables().send().await;
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(
            asked.connectors.load(Ordering::SeqCst),
            1,
            "the request's connector"
        );
        assert_eq!(asked.checks.load(Ordering::SeqCst), 0);
    }
}

//! Where telemetry goes, read from the environment once, at start-up.

use std::time::Duration;

/// The OTLP endpoint's base URL, e.g. `http://localhost:4318`: spans go to `<it>/v1/traces`.
pub const OTLP_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The OTLP protocol; only `http/protobuf` (the default) is spoken here.
pub const OTLP_PROTOCOL_VAR: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The longest an export may take, in milliseconds (OpenTelemetry's variable).
pub const OTLP_TIMEOUT_VAR: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// The `service.name` of the spans.
pub const SERVICE_NAME_VAR: &str = "OTEL_SERVICE_NAME";
/// More resource attributes, `key=value,key=value` (OpenTelemetry's variable).
pub const RESOURCE_ATTRIBUTES_VAR: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Where DogStatsD metrics go, e.g. `udp://127.0.0.1:8125` (the Datadog extension).
pub const DOGSTATSD_URL_VAR: &str = "DD_DOGSTATSD_URL";

/// The one OTLP protocol the exporter speaks.
pub const HTTP_PROTOBUF: &str = "http/protobuf";

/// How long a flush may hold an invocation by default. The extension answers on localhost in
/// about a millisecond; a collector that takes longer is treated as gone, and the invocation's
/// spans are dropped rather than its answer delayed.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_millis(250);

/// Where telemetry goes. Each destination is `None` when its variable is absent (or blank), and
/// then nothing for it is created: no client, no socket, no buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The OTLP endpoint's base URL; spans are posted to `<it>/v1/traces` as protobuf.
    pub otlp_endpoint: Option<String>,
    /// The longest a flush waits for the endpoint.
    pub export_timeout: Duration,
    /// `service.name`: `OTEL_SERVICE_NAME`, else the Lambda function's name, else the
    /// executable's.
    pub service_name: String,
    /// The spans' other resource attributes: the function and region Lambda names, then
    /// `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource: Vec<(String, String)>,
    /// The DogStatsD server, `host:port`, sent to over UDP.
    pub dogstatsd: Option<String>,
    /// What was set but cannot be used, in words for a warning: that destination is off.
    pub problems: Vec<String>,
}

impl Config {
    /// Nothing is sent anywhere.
    pub fn none() -> Self {
        Self {
            otlp_endpoint: None,
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
            service_name: default_service_name(),
            resource: Vec::new(),
            dogstatsd: None,
            problems: Vec::new(),
        }
    }

    /// The process's environment (see the `*_VAR` constants).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration `lookup` describes, as [`Config::from_env`] reads the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut config = Self::none();
        if let Some(endpoint) = get(OTLP_ENDPOINT_VAR) {
            match get(OTLP_PROTOCOL_VAR).as_deref() {
                None | Some(HTTP_PROTOBUF) => config.otlp_endpoint = Some(endpoint),
                Some(other) => config.problems.push(format!(
                    "{OTLP_PROTOCOL_VAR}={other} is not supported (only {HTTP_PROTOBUF}): spans are not exported"
                )),
            }
        }
        if let Some(millis) = get(OTLP_TIMEOUT_VAR) {
            match millis.trim().parse::<u64>() {
                Ok(millis) => config.export_timeout = Duration::from_millis(millis),
                Err(_) => config.problems.push(format!(
                    "{OTLP_TIMEOUT_VAR}={millis} is not a number of milliseconds: the default ({} ms) applies",
                    DEFAULT_EXPORT_TIMEOUT.as_millis()
                )),
            }
        }
        if let Some(name) = get(SERVICE_NAME_VAR).or_else(|| get("AWS_LAMBDA_FUNCTION_NAME")) {
            config.service_name = name;
        }
        for (key, var) in [
            ("faas.name", "AWS_LAMBDA_FUNCTION_NAME"),
            ("faas.version", "AWS_LAMBDA_FUNCTION_VERSION"),
            ("cloud.region", "AWS_REGION"),
        ] {
            if let Some(value) = get(var) {
                config.resource.push((key.to_owned(), value));
            }
        }
        if config.resource.iter().any(|(key, _)| key == "faas.name") {
            config
                .resource
                .push(("cloud.provider".to_owned(), "aws".to_owned()));
        }
        if let Some(attributes) = get(RESOURCE_ATTRIBUTES_VAR) {
            config.resource.extend(
                attributes
                    .split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned())),
            );
        }
        if let Some(url) = get(DOGSTATSD_URL_VAR) {
            match dogstatsd_address(&url) {
                Ok(address) => config.dogstatsd = Some(address),
                Err(problem) => config.problems.push(problem),
            }
        }
        config
    }
}

/// `host:port` of a DogStatsD URL: `udp://host:port`, or `host:port` alone.
fn dogstatsd_address(url: &str) -> Result<String, String> {
    let address = match url.split_once("://") {
        None => url,
        Some(("udp", address)) => address,
        Some((scheme, _)) => {
            return Err(format!(
                "{DOGSTATSD_URL_VAR}={url}: only udp:// is supported, not {scheme}://: metrics are not sent"
            ));
        }
    };
    let address = address.trim_end_matches('/');
    if address.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    }) {
        Ok(address.to_owned())
    } else {
        Err(format!(
            "{DOGSTATSD_URL_VAR}={url} has no host:port: metrics are not sent"
        ))
    }
}

fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem()?.to_str().map(ToOwned::to_owned))
        .unwrap_or_else(|| "trip-saga".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn nothing_set_creates_nothing() {
        let config = config(&[]);
        assert_eq!(config.otlp_endpoint, None);
        assert_eq!(config.dogstatsd, None);
        assert!(config.problems.is_empty());
    }

    #[test]
    fn the_lambda_contract_is_read() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "trip-saga"),
            ("DD_DOGSTATSD_URL", "udp://127.0.0.1:8125"),
            ("AWS_LAMBDA_FUNCTION_NAME", "TripSaga-dev-CreateTrip"),
            ("AWS_REGION", "ap-northeast-1"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=dev"),
        ]);
        assert_eq!(
            config.otlp_endpoint.as_deref(),
            Some("http://localhost:4318")
        );
        assert_eq!(config.service_name, "trip-saga");
        assert_eq!(config.dogstatsd.as_deref(), Some("127.0.0.1:8125"));
        assert_eq!(config.export_timeout, DEFAULT_EXPORT_TIMEOUT);
        let resource: Vec<(&str, &str)> = config
            .resource
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            resource,
            [
                ("faas.name", "TripSaga-dev-CreateTrip"),
                ("cloud.region", "ap-northeast-1"),
                ("cloud.provider", "aws"),
                ("deployment.environment", "dev"),
            ]
        );
        assert!(config.problems.is_empty());
    }

    #[test]
    fn what_cannot_be_used_is_off_and_said() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
            ("DD_DOGSTATSD_URL", "unix:///var/run/datadog/dsd.socket"),
        ]);
        assert_eq!(config.otlp_endpoint, None);
        assert_eq!(config.dogstatsd, None);
        assert_eq!(config.problems.len(), 3, "{:?}", config.problems);
        assert!(config.problems[0].contains("grpc"));
    }

    #[test]
    fn blank_is_absent_and_a_bare_address_is_udp() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", " "),
            ("DD_DOGSTATSD_URL", "localhost:8125"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "40"),
        ]);
        assert_eq!(config.otlp_endpoint, None);
        assert_eq!(config.dogstatsd.as_deref(), Some("localhost:8125"));
        assert_eq!(config.export_timeout, Duration::from_millis(40));
        assert!(dogstatsd_address("udp://8125").is_err());
    }
}

//! The `prometheus-url` source: any server with the Prometheus HTTP API (Prometheus,
//! VictoriaMetrics, Mimir, Grafana Cloud), asked `GET <prefix>/api/v1/query?query=…`.
//!
//! The reply format is Prometheus's docs/querying/api.md ("Format overview", "Instant
//! queries", "Expression query result formats"): `{"status": "success"|"error", "data":
//! {"resultType": "vector"|"scalar"|"matrix"|"string", "result": …}, "errorType", "error"}`;
//! a vector is `[{"metric": {…}, "value": [<unix time>, "<value as string>"]}]` and a
//! scalar `[<unix time>, "<value>"]`; values are strings because they may be `NaN`, `+Inf`.
//! Errors come with 400, 422 or 503 and an error object.
//! Anything but exactly one finite-or-infinite number is inconclusive, never a pass.

use std::time::Duration;

use reqwest::Client;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use url::Url;

use crate::http::{describe_reqwest, read_body_capped};
use crate::redact::safe_url;

/// Query answers are small (one series); a bigger one is cut and then inconclusive.
pub const REPLY_LIMIT: usize = 1 << 20;

/// A configured Prometheus HTTP API.
#[derive(Clone)]
pub struct PrometheusSource {
    client: Client,
    query_url: Url,
    headers: HeaderMap,
}

impl PrometheusSource {
    /// `base` may carry a path prefix (`https://prometheus-prod.grafana.net/api/prom`): the
    /// API path is appended to it, never put in its place.
    pub fn new(client: Client, base: &Url, headers: HeaderMap) -> Self {
        Self {
            client,
            query_url: query_endpoint(base),
            headers,
        }
    }

    /// The query endpoint, without credentials, for reports.
    pub fn describe(&self) -> String {
        format!("prometheus {}", safe_url(&self.query_url))
    }

    /// One instant query: its single value, or why there is none.
    pub async fn query(&self, query: &str, timeout: Duration) -> Result<f64, String> {
        let mut url = self.query_url.clone();
        url.query_pairs_mut().append_pair("query", query);
        let sent = self
            .client
            .get(url)
            .headers(self.headers.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("query failed: {}", describe_reqwest(&e)))?;
        let status = sent.status();
        let body = read_body_capped(sent, REPLY_LIMIT)
            .await
            .map_err(|e| format!("reading the answer failed: {}", describe_reqwest(&e)))?;
        if body.truncated {
            return Err(format!(
                "the answer is larger than {} KiB",
                REPLY_LIMIT >> 10
            ));
        }
        interpret(status.as_u16(), &body.bytes)
    }
}

/// `<base>/api/v1/query`, the base's path prefix kept, its query and fragment dropped.
pub fn query_endpoint(base: &Url) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let path = format!("{}/api/v1/query", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

#[derive(Deserialize)]
struct Reply {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct Series {
    value: (serde_json::Value, String),
}

/// Reads an answer. Every message is short and from us, with at most 200 characters of the
/// server's error text (every log, print and summary line goes through `gha::untrusted::safe_line`).
pub fn interpret(status: u16, body: &[u8]) -> Result<f64, String> {
    let reply: Reply = match serde_json::from_slice(body) {
        Ok(reply) => reply,
        Err(_) if !(200..300).contains(&status) => {
            return Err(format!("the server answered HTTP {status}"));
        }
        Err(_) => return Err("the answer is not a Prometheus API reply".to_owned()),
    };
    if reply.status != "success" {
        let kind = reply.error_type.unwrap_or_default();
        let text: String = reply.error.unwrap_or_default().chars().take(200).collect();
        return Err(format!("the query failed (HTTP {status}, {kind}): {text}"));
    }
    let Some(data) = reply.data else {
        return Err("the answer has no data".to_owned());
    };
    let raw = match data.result_type.as_str() {
        "vector" => {
            let series: Vec<Series> = serde_json::from_value(data.result)
                .map_err(|_| "the vector in the answer is malformed".to_owned())?;
            match series.as_slice() {
                [] => return Err("the query returned no sample".to_owned()),
                [one] => one.value.1.clone(),
                many => {
                    return Err(format!(
                        "the query returned {} series, not one; aggregate it (e.g. sum(…))",
                        many.len()
                    ));
                }
            }
        }
        "scalar" => {
            let (_, value): (serde_json::Value, String) = serde_json::from_value(data.result)
                .map_err(|_| "the scalar in the answer is malformed".to_owned())?;
            value
        }
        other => {
            return Err(format!(
                "the query returned a {}, not one number; use an instant vector or scalar",
                if other == "matrix" {
                    "range vector"
                } else {
                    "string"
                }
            ));
        }
    };
    // Prometheus writes NaN and ±Inf as `NaN`, `+Inf`, `-Inf` (Go's strconv.FormatFloat).
    let value = match raw.as_str() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => raw
            .parse::<f64>()
            .map_err(|_| "the value in the answer is not a number".to_owned())?,
    };
    if value.is_nan() {
        return Err("the value is NaN (e.g. 0/0: no traffic in the window)".to_owned());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(values: &[&str]) -> String {
        let series: Vec<String> = values
            .iter()
            .map(|v| format!(r#"{{"metric":{{}},"value":[1700000000.5,"{v}"]}}"#))
            .collect();
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
            series.join(",")
        )
    }

    #[test]
    fn one_sample_is_the_value() {
        assert_eq!(interpret(200, vector(&["0.081"]).as_bytes()), Ok(0.081));
        assert_eq!(
            interpret(200, vector(&["+Inf"]).as_bytes()),
            Ok(f64::INFINITY)
        );
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}}"#;
        assert_eq!(interpret(200, scalar.as_bytes()), Ok(2.0));
    }

    #[test]
    fn anything_else_is_inconclusive() {
        let none = interpret(200, vector(&[]).as_bytes()).unwrap_err();
        assert!(none.contains("no sample"), "{none}");
        let two = interpret(200, vector(&["1", "2"]).as_bytes()).unwrap_err();
        assert!(two.contains("2 series"), "{two}");
        let nan = interpret(200, vector(&["NaN"]).as_bytes()).unwrap_err();
        assert!(nan.contains("NaN"), "{nan}");
        let error = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        let err = interpret(400, error.as_bytes()).unwrap_err();
        assert!(
            err.contains("bad_data") && err.contains("parse error"),
            "{err}"
        );
        let html = interpret(502, b"<html>bad gateway</html>").unwrap_err();
        assert_eq!(html, "the server answered HTTP 502");
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(
            interpret(200, matrix.as_bytes())
                .unwrap_err()
                .contains("range vector")
        );
    }

    #[test]
    fn the_path_prefix_is_kept() {
        let base = Url::parse("https://prom.example.com/api/prom/?x=1#f").unwrap();
        assert_eq!(
            query_endpoint(&base).as_str(),
            "https://prom.example.com/api/prom/api/v1/query"
        );
        let bare = Url::parse("http://127.0.0.1:9090").unwrap();
        assert_eq!(
            query_endpoint(&bare).as_str(),
            "http://127.0.0.1:9090/api/v1/query"
        );
    }
}

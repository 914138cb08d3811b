//! The `metrics-url` source: the app's own `/metrics` in the Prometheus text format, scraped
//! at every interval; each check is evaluated (evaluate.rs) between the scrape before and
//! the scrape now.
//!
//! The text format is read by exposition.rs (our own strict reader, following Prometheus's
//! parser; why not a crate is said there): a malformed page is an inconclusive
//! measurement with the line and the reason, never a different number.

use std::time::{Duration, Instant};

use promql_parser::parser::Expr;
use reqwest::Client;
use url::Url;

use super::evaluate::{eval, single};
pub use super::exposition::{Series, Snapshot};
use crate::http::{describe_reqwest, read_body_capped};
use crate::redact::safe_url;

/// A `/metrics` page is read up to this size; a bigger one is inconclusive.
pub const PAGE_LIMIT: usize = 32 << 20;

/// A configured `/metrics` URL and the scrape before.
#[derive(Clone)]
pub struct ScrapeSource {
    client: Client,
    url: Url,
    previous: Option<Snapshot>,
}

impl ScrapeSource {
    pub fn new(client: Client, url: Url) -> Self {
        Self {
            client,
            url,
            previous: None,
        }
    }

    pub fn describe(&self) -> String {
        format!("scrape {}", safe_url(&self.url))
    }

    /// One scrape.
    pub async fn scrape(&self, timeout: Duration) -> Result<Snapshot, String> {
        let sent = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "text/plain;version=0.0.4")
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("scrape failed: {}", describe_reqwest(&e)))?;
        let status = sent.status();
        if !status.is_success() {
            return Err(format!("the scrape answered HTTP {}", status.as_u16()));
        }
        let body = read_body_capped(sent, PAGE_LIMIT)
            .await
            .map_err(|e| format!("reading the scrape failed: {}", describe_reqwest(&e)))?;
        if body.truncated {
            return Err(format!("the page is larger than {} MiB", PAGE_LIMIT >> 20));
        }
        let text =
            String::from_utf8(body.bytes).map_err(|_| "the page is not UTF-8 text".to_owned())?;
        Snapshot::parse(text, Instant::now())
    }

    /// The first scrape: the start of every window.
    pub async fn prime(&mut self, timeout: Duration) -> Result<(), String> {
        self.previous = Some(self.scrape(timeout).await?);
        Ok(())
    }

    /// Scrapes now and evaluates every query over the window since the scrape before; the
    /// new scrape becomes the start of the next window.
    pub async fn measure(
        &mut self,
        queries: &[&Expr],
        timeout: Duration,
    ) -> Vec<Result<f64, String>> {
        let now = match self.scrape(timeout).await {
            Ok(now) => now,
            Err(why) => return queries.iter().map(|_| Err(why.clone())).collect(),
        };
        let Some(prev) = self.previous.take() else {
            self.previous = Some(now);
            return queries
                .iter()
                .map(|_| Err("no earlier scrape to compare with".to_owned()))
                .collect();
        };
        let seconds = match (prev.at, now.at) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let results = queries
            .iter()
            .map(|q| {
                if seconds <= 0.0 {
                    return Err("the two scrapes have no time between them".to_owned());
                }
                eval(q, &prev, &now, seconds).and_then(single)
            })
            .collect();
        self.previous = Some(now);
        results
    }
}

/// Real exposition pages, each checked against what Prometheus's own parser reads
/// (prometheus/prometheus model/textparse/promlex.l, promparse.go; prometheus/common
/// expfmt/text_parse.go): the value a check would see, or that the page is refused.
#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::metrics::evaluate::{eval, prepare, single};

    fn snap(text: &str) -> Result<Snapshot, String> {
        Snapshot::parse(text, Instant::now())
    }

    /// The instant value of `query` on one page.
    fn value(page: &str, query: &str) -> Result<f64, String> {
        let expr = prepare(query)?;
        let snapshot = snap(page)?;
        eval(&expr, &snapshot, &snapshot, 10.0).and_then(single)
    }

    fn refused(page: &str) -> String {
        match snap(page) {
            Err(why) => why,
            Ok(s) => panic!(
                "accepted a malformed page: {:?}… → {} series",
                page.chars().take(80).collect::<String>(),
                s.len()
            ),
        }
    }

    #[test]
    fn label_values_may_hold_commas_and_equals_signs() {
        let page = "# TYPE http_requests_total counter\n\
            http_requests_total{path=\"/search?q=a,b\",code=\"500\"} 7\n\
            http_requests_total{path=\"/x\",code=\"200\"} 90\n";
        assert_eq!(
            value(page, r#"sum(http_requests_total{path="/search?q=a,b"})"#),
            Ok(7.0)
        );
        assert_eq!(
            value(page, r#"sum(http_requests_total{code="500"})"#),
            Ok(7.0)
        );
    }

    #[test]
    fn escapes_in_label_values_are_read_as_prometheus_reads_them() {
        // promparse.go lvalReplacer: \" → ", \\ → \, \n → line feed.
        let page = "a{q=\"say \\\"hi\\\"\"} 1\n\
            a{q=\"C:\\\\dir\"} 2\n\
            a{q=\"two\\nlines\"} 3\n";
        assert_eq!(value(page, r#"sum(a{q="say \"hi\""})"#), Ok(1.0));
        assert_eq!(value(page, r#"sum(a{q="C:\\dir"})"#), Ok(2.0));
        assert_eq!(value(page, "sum(a{q=\"two\\nlines\"})"), Ok(3.0));
        assert_eq!(value(page, "sum(a)"), Ok(6.0));
    }

    #[test]
    fn help_and_type_lines_with_odd_text() {
        let page = "# HELP a Help with \"quotes\", {braces}, a=b and \\\\ escapes\n\
            # \tTYPE a counter\n\
            # HELP b\n\
            # some comment # with { and }\n\
            #no space is a comment too\n\
            a 4\n";
        assert_eq!(value(page, "sum(a)"), Ok(4.0));
        assert!(refused("# TYPE a countr\na 1\n").contains("line 1"));
        // `HELP` must be followed by a space to be HELP (promlex.l:67); alone it is a comment.
        assert!(refused("# HELP \na 1\n").contains("line 1"));
        assert_eq!(value("# HELP\na 1\n", "sum(a)"), Ok(1.0));
        assert!(refused("a 1\n# TYPE {\n").contains("line 2"));
    }

    #[test]
    fn nan_and_infinities() {
        let page = "g{k=\"nan\"} NaN\ng{k=\"inf\"} +Inf\ng{k=\"ninf\"} -Inf\n";
        assert_eq!(value(page, r#"sum(g{k="inf"})"#), Ok(f64::INFINITY));
        assert_eq!(value(page, r#"sum(g{k="ninf"})"#), Ok(f64::NEG_INFINITY));
        assert!(value(page, r#"sum(g{k="nan"})"#).unwrap().is_nan());
        assert_eq!(value(page, "count_values").map_err(|_| ()), Err(()));
    }

    #[test]
    fn timestamps_after_the_value() {
        let page = "a 5 1700000000000\nb{x=\"y\"} 6\t  1700000000000\n";
        assert_eq!(value(page, "sum(a)"), Ok(5.0));
        assert_eq!(value(page, "sum(b)"), Ok(6.0));
        assert!(refused("a 5 1.5\n").contains("line 1"));
        assert!(refused("a 5 17x\n").contains("line 1"));
        assert!(refused("a 5 1 2\n").contains("line 1"));
    }

    #[test]
    fn openmetrics_types_and_exemplars_are_refused_as_prometheus_refuses_them() {
        // promparse.go at v3.14.0, 337-350: the text format's five types, no others.
        for kind in ["gaugehistogram", "info", "stateset", "unknown"] {
            let why = refused(&format!("# TYPE a {kind}\na 1\n"));
            assert!(
                why.contains("line 1") && why.contains("TYPE"),
                "{kind}: {why}"
            );
        }
        // 483-496: after the value only a timestamp, then the line break.
        let why = refused("a_total{x=\"1\"} 5 # {trace_id=\"abc,d=e\"} 1.0 1700000000.000\n");
        assert!(why.contains("line 1") && why.contains("exemplar"), "{why}");
        let why = refused("a_total 5\na_total{x=\"2\"} 6 1700000000000 # {t=\"a\"} 1\n");
        assert!(why.contains("line 2") && why.contains("exemplar"), "{why}");
        assert!(refused("a_total 5 # trace\n").contains("line 1"));
        // `# EOF` and `# UNIT` are comments to the text parser (promlex.l:65-66).
        let page = "# TYPE a counter\n# UNIT a seconds\n\
            a_total{x=\"1\"} 5\na_total{x=\"2\"} 6\n# EOF\n";
        assert_eq!(value(page, "sum(a_total)"), Ok(11.0));
        assert_eq!(value("# TYPE u untyped\nu 2\n", "sum(u)"), Ok(2.0));
    }

    #[test]
    fn a_histogram_with_an_inf_bucket() {
        let page = "# TYPE h histogram\n\
            h_bucket{le=\"0.1\"} 0\n\
            h_bucket{le=\"1\"} 10\n\
            h_bucket{le=\"+Inf\"} 10\n\
            h_sum 5\n\
            h_count 10\n";
        assert_eq!(value(page, "sum(h_bucket{le=\"+Inf\"})"), Ok(10.0));
        let p50 = value(page, "histogram_quantile(0.5, sum by (le) (h_bucket))").unwrap();
        assert!((p50 - 0.55).abs() < 1e-12, "{p50}");
    }

    #[test]
    fn empty_label_sets() {
        assert_eq!(value("a{} 3\n", "sum(a)"), Ok(3.0));
        assert_eq!(value("a{ } 3\n", "sum(a)"), Ok(3.0));
        // An empty label value is a missing label: the series is `a`.
        assert_eq!(value("a{x=\"\"} 3\n", "sum(a{x=\"\"})"), Ok(3.0));
        assert!(refused("{} 3\n").contains("line 1"));
    }

    #[test]
    fn a_series_twice_is_refused() {
        let why = refused("a{x=\"1\",y=\"2\"} 1\nb 1\na{y=\"2\",x=\"1\"} 2\n");
        assert!(why.contains("twice"), "{why}");
    }

    #[test]
    fn malformed_lines_are_refused_never_skipped() {
        for page in [
            "a{b='c'} 1\n",
            "a true\n",
            "a\n",
            "a{b=\"c\" 1\n",
            "a{b=\"open} 1\n",
            "foo 1_2\n",
            "foo 0x1p-3\n",
            "{a=\"ok\"} 1\n",
            "a{b=\"1\",b=\"2\"} 1\n",
            "a{=\"x\"} 1\n",
            "a{b=c} 1\n",
            "a{b=\"c\"} 1 {\n",
            "a 1\r\n",
            "ok 1\nbad{ 1\nok2 2\n",
        ] {
            let why = refused(page);
            assert!(why.contains("malformed"), "{page:?}: {why}");
        }
    }

    #[test]
    fn hostile_pages_are_bounded() {
        let many: String = (0..100_001)
            .map(|i| format!("a{{i=\"{i}\"}} 1\n"))
            .collect();
        assert!(refused(&many).contains("more than 100000 series"));
        let labels: Vec<String> = (0..65).map(|i| format!("l{i}=\"v\"")).collect();
        let wide = format!("a{{{}}} 1\n", labels.join(","));
        assert!(refused(&wide).contains("more than 64 labels"));
        let long = format!("a{{x=\"{}\"}} 1\n", "v".repeat(16 * 1024 + 1));
        assert!(refused(&long).contains("longer than"));
    }
}

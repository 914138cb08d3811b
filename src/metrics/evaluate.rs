//! PromQL evaluated by us on two scrapes of an app's `/metrics` (the `metrics-url` source),
//! for teams without a Prometheus server. What the checks need and no more: `rate` and
//! `increase` of counters with label matchers (`=`, `!=`, `=~`, `!~`), instant selectors,
//! `sum` / `sum by (…)` / `sum without (…)`, `histogram_quantile`, numbers, unary minus,
//! parentheses and `+ - * /` between them (vectors matched one-to-one on equal label sets).
//! Anything else is named as unsupported when the inputs are read.
//!
//! The window of `rate(x[2m])` is the time between the two scrapes, not `2m`: there are only
//! two samples. Counter resets are handled as Prometheus handles them in
//! promql/functions.go `extrapolatedRate` (prometheus/prometheus v3.14.0, d7598b7, l. 452;
//! the same in v2.54.1 at l. 71): the increase is the last sample less the first (l. 512),
//! and wherever a sample is lower than the one before, the one before is added to it
//! (`resultFloat += prevPoint.F`, l. 531-532); with two samples the increase after a reset
//! is the new value. Prometheus also extrapolates to the window's edges; with both samples
//! at the window's edges there is nothing to extrapolate. (Its start-timestamp resets, the
//! other half of the condition at l. 531, need created timestamps a text page does not
//! carry.) `histogram_quantile` follows
//! promql/quantile.go `bucketQuantile`: linear interpolation inside the bucket that holds
//! the rank, the lowest bucket starting at 0, the `+Inf` bucket answered with the upper
//! bound of the bucket below it, NaN without observations or without a `+Inf` bucket.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use promql_parser::label::{MatchOp, Matchers};
use promql_parser::parser::{self, Expr, LabelModifier, VectorSelector};

use super::exposition::{Series, parse_float};
use super::scrape::Snapshot;

/// A series' labels during evaluation (the metric name aside), sorted by name, borrowed
/// from the scrape.
pub type Labels<'a> = Vec<(&'a str, &'a str)>;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Scalar(f64),
    /// Series: labels (without the metric name) and value.
    Vector(Vec<(Labels<'a>, f64)>),
}

/// Parses and checks that every construct is supported (an empty evaluation visits them all).
pub fn prepare(query: &str) -> Result<Expr, String> {
    let expr = parser::parse(query).map_err(|why| format!("not valid PromQL: {why}"))?;
    let empty = Snapshot::default();
    eval(&expr, &empty, &empty, 1.0)?;
    Ok(expr)
}

/// The single number a check compares: one series or a scalar; anything else says why not.
pub fn single(value: Value<'_>) -> Result<f64, String> {
    match value {
        Value::Scalar(v) => Ok(v),
        Value::Vector(series) => match series.as_slice() {
            [] => Err("the query returned no sample".to_owned()),
            [(_, v)] => Ok(*v),
            many => Err(format!(
                "the query returned {} series, not one; aggregate it (e.g. sum(…))",
                many.len()
            )),
        },
    }
}

/// Evaluates `expr` at `cur`, with `prev` as the start of every range; `seconds` between them.
pub fn eval<'a>(
    expr: &Expr,
    prev: &'a Snapshot,
    cur: &'a Snapshot,
    seconds: f64,
) -> Result<Value<'a>, String> {
    match expr {
        Expr::Paren(p) => eval(&p.expr, prev, cur, seconds),
        Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
        Expr::Unary(u) => Ok(match eval(&u.expr, prev, cur, seconds)? {
            Value::Scalar(v) => Value::Scalar(-v),
            Value::Vector(series) => {
                Value::Vector(series.into_iter().map(|(l, v)| (l, -v)).collect())
            }
        }),
        Expr::VectorSelector(vs) => {
            plain(vs)?;
            Ok(Value::Vector(
                select(cur, vs)
                    .map(|s| (cur.labels(s).iter().collect(), s.value))
                    .collect(),
            ))
        }
        Expr::Call(call) => match call.func.name {
            "rate" | "increase" => {
                let [arg] = call.args.args.as_slice() else {
                    return Err(format!("{} takes one range selector", call.func.name));
                };
                let Expr::MatrixSelector(ms) = arg.as_ref() else {
                    return Err(format!(
                        "{}(…) is supported on a range selector such as x[2m] only",
                        call.func.name
                    ));
                };
                plain(&ms.vs)?;
                let per_second = call.func.name == "rate";
                let mut series = Vec::new();
                each_increase(prev, cur, &ms.vs, seconds, per_second, |now, v| {
                    series.push((cur.labels(now).iter().collect(), v));
                });
                if fixed_name(&ms.vs).is_none() {
                    // Series of several metrics may share their labels once the name is
                    // dropped; the series of one metric on a page never do.
                    series = distinct(series)?;
                }
                Ok(Value::Vector(series))
            }
            "histogram_quantile" => {
                let [phi, buckets] = call.args.args.as_slice() else {
                    return Err("histogram_quantile takes a quantile and a vector".to_owned());
                };
                let Value::Scalar(phi) = eval(phi, prev, cur, seconds)? else {
                    return Err("histogram_quantile's first argument must be a number".to_owned());
                };
                let Value::Vector(series) = eval(buckets, prev, cur, seconds)? else {
                    return Err("histogram_quantile's second argument must be a vector".to_owned());
                };
                Ok(Value::Vector(quantiles(phi, series)))
            }
            other => Err(format!(
                "the function {other}(…) is not supported with metrics-url (supported: rate, increase, histogram_quantile); use prometheus-url for it"
            )),
        },
        Expr::Aggregate(agg) => {
            let op = agg.op.to_string();
            if op != "sum" {
                return Err(format!(
                    "the aggregation {op} is not supported with metrics-url (supported: sum, sum by, sum without); use prometheus-url for it"
                ));
            }
            if agg.modifier.is_none()
                && let Some((vs, per_second)) = counter_of_one_metric(&agg.expr)
            {
                // sum(rate(x{…}[w])) of one metric: the labels are not needed (the series
                // of one metric on a page are distinct), so none are collected.
                let mut total = None;
                each_increase(prev, cur, vs, seconds, per_second, |_, v| {
                    *total.get_or_insert(0.0) += v;
                });
                return Ok(Value::Vector(
                    total.map(|t| vec![(Vec::new(), t)]).unwrap_or_default(),
                ));
            }
            let Value::Vector(series) = eval(&agg.expr, prev, cur, seconds)? else {
                return Err("sum(…) needs a vector".to_owned());
            };
            let mut groups: BTreeMap<Labels<'a>, f64> = BTreeMap::new();
            for (mut labels, value) in series {
                match &agg.modifier {
                    None => labels.clear(),
                    Some(LabelModifier::Include(by)) => {
                        labels.retain(|(k, _)| by.labels.iter().any(|l| l == k));
                    }
                    Some(LabelModifier::Exclude(without)) => {
                        labels.retain(|(k, _)| !without.labels.iter().any(|l| l == k));
                    }
                }
                *groups.entry(labels).or_insert(0.0) += value;
            }
            Ok(Value::Vector(groups.into_iter().collect()))
        }
        Expr::Binary(bin) => {
            let op = bin.op.to_string();
            if !matches!(op.as_str(), "+" | "-" | "*" | "/") {
                return Err(format!(
                    "the operator {op} is not supported with metrics-url (supported: + - * /); use prometheus-url for it"
                ));
            }
            if bin.modifier.as_ref().is_some_and(|m| m.matching.is_some()) {
                return Err(
                    "on(…) / ignoring(…) matching is not supported with metrics-url; use prometheus-url for it"
                        .to_owned(),
                );
            }
            let lhs = eval(&bin.lhs, prev, cur, seconds)?;
            let rhs = eval(&bin.rhs, prev, cur, seconds)?;
            arithmetic(&op, lhs, rhs)
        }
        Expr::MatrixSelector(_) => {
            Err("a range selector x[2m] needs rate(…) or increase(…) around it".to_owned())
        }
        Expr::Subquery(_) => Err("subqueries are not supported with metrics-url".to_owned()),
        Expr::StringLiteral(_) => Err("strings are not supported with metrics-url".to_owned()),
        Expr::Extension(_) => Err("this expression is not supported with metrics-url".to_owned()),
    }
}

/// `offset` and `@` look into a past a scrape does not have.
fn plain(vs: &VectorSelector) -> Result<(), String> {
    if vs.offset.is_some() || vs.at.is_some() {
        return Err("offset and @ need stored history: use prometheus-url for them".to_owned());
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err("`or` inside label matchers is not supported with metrics-url".to_owned());
    }
    Ok(())
}

/// The metric name a selector fixes, if any: `x{…}` or `{__name__="x"}`.
fn fixed_name(vs: &VectorSelector) -> Option<&str> {
    vs.name.as_deref().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__" && matches!(m.op, MatchOp::Equal))
            .map(|m| m.value.as_str())
    })
}

/// Does a series match every matcher? No allocation: names and values are borrowed.
fn matches(snapshot: &Snapshot, series: &Series, vs: &VectorSelector) -> bool {
    let Matchers { matchers, .. } = &vs.matchers;
    let labels = snapshot.labels(series);
    matchers.iter().all(|m| {
        let value = if m.name == "__name__" {
            snapshot.name(series)
        } else {
            labels.get(&m.name)
        };
        m.is_match(value)
    })
}

/// The series a selector picks, in the snapshot's order: only those of its metric name
/// (found by binary search) when it names one.
fn select<'s, 'v>(
    snapshot: &'s Snapshot,
    vs: &'v VectorSelector,
) -> impl Iterator<Item = &'s Series> + Clone + use<'s, 'v> {
    let candidates = match fixed_name(vs) {
        Some(name) => snapshot.named(name),
        None => snapshot.all(),
    };
    candidates.iter().filter(move |s| matches(snapshot, s, vs))
}

/// `rate(x{…}[w])` or `increase(…)` (in parentheses or not) of a selector that names one
/// metric and that `plain` accepts: the selector and whether it is per second. Anything
/// else is `None` and goes the general way (which also names what is unsupported).
fn counter_of_one_metric(expr: &Expr) -> Option<(&VectorSelector, bool)> {
    let call = match expr {
        Expr::Paren(p) => return counter_of_one_metric(&p.expr),
        Expr::Call(call) => call,
        _ => return None,
    };
    let per_second = match call.func.name {
        "rate" => true,
        "increase" => false,
        _ => return None,
    };
    let [arg] = call.args.args.as_slice() else {
        return None;
    };
    let Expr::MatrixSelector(ms) = arg.as_ref() else {
        return None;
    };
    (plain(&ms.vs).is_ok() && fixed_name(&ms.vs).is_some()).then_some((&ms.vs, per_second))
}

/// Per matching series in both scrapes: the increase, reset-corrected, per second if asked,
/// given to `out` with the series of `cur`. Both scrapes are sorted alike (name, then
/// label-set hash), so their selections are joined by one merge; series whose keys collide
/// are told apart by their labels.
fn each_increase<'a>(
    prev: &'a Snapshot,
    cur: &'a Snapshot,
    vs: &VectorSelector,
    seconds: f64,
    per_second: bool,
    mut out: impl FnMut(&'a Series, f64),
) {
    // No list of the series before: the merge walks both selections; a run of equal keys
    // (a hash collision) is looked through with a copy of the iterator.
    // The series of one metric name are ordered by hash alone (no name to compare).
    let one_name = fixed_name(vs).is_some();
    let order = |b: &Series, now: &Series| {
        if one_name {
            b.hash().cmp(&now.hash())
        } else {
            prev.order(b, cur, now)
        }
    };
    let mut before = select(prev, vs).peekable();
    for now in select(cur, vs) {
        while before
            .next_if(|b| order(b, now) == Ordering::Less)
            .is_some()
        {}
        let first = before
            .clone()
            .take_while(|b| order(b, now) == Ordering::Equal)
            .find(|b| prev.same(b, cur, now));
        let Some(first) = first else { continue };
        let mut increase = now.value - first.value;
        if now.value < first.value {
            // A counter reset: Prometheus adds the value before the reset (promql/functions.go
            // at v3.14.0 d7598b7, l. 531-532).
            increase += first.value;
        }
        let value = if per_second {
            increase / seconds
        } else {
            increase
        };
        out(now, value);
    }
}

/// A function's result drops the metric name; two series that then share their labels
/// cannot be told apart (Prometheus: "vector cannot contain metrics with the same labelset").
fn distinct(mut series: Vec<(Labels<'_>, f64)>) -> Result<Vec<(Labels<'_>, f64)>, String> {
    series.sort_by(|a, b| a.0.cmp(&b.0));
    if series.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(
            "two series of different metrics have the same labels once the name is dropped"
                .to_owned(),
        );
    }
    Ok(series)
}

/// histogram_quantile per group of buckets (the labels without `le`). A series without a
/// readable `le` is skipped, as promql/functions.go does.
fn quantiles<'a>(phi: f64, series: Vec<(Labels<'a>, f64)>) -> Vec<(Labels<'a>, f64)> {
    let mut groups: BTreeMap<Labels<'a>, Vec<(f64, f64)>> = BTreeMap::new();
    for (mut labels, count) in series {
        let Some(at) = labels.iter().position(|(k, _)| *k == "le") else {
            continue;
        };
        let (_, le) = labels.remove(at);
        let Some(upper) = parse_float(le) else {
            continue;
        };
        groups.entry(labels).or_default().push((upper, count));
    }
    groups
        .into_iter()
        .map(|(labels, buckets)| (labels, bucket_quantile(phi, buckets)))
        .collect()
}

/// Prometheus's bucketQuantile (promql/quantile.go) on (upper bound, cumulative count).
pub fn bucket_quantile(phi: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Buckets with the same upper bound (`le="1"` and `le="1.0"`) are one bucket: their
    // counts are added, as coalesceBuckets does (promql/quantile.go:617-634, read at d15adb9).
    buckets.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    if buckets.len() < 2 || buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Counts must not fall from one bucket to the next (rounding in the app): as Prometheus's
    // ensureMonotonic, carry the highest count so far forward.
    let mut max = f64::NEG_INFINITY;
    for bucket in &mut buckets {
        max = max.max(bucket.1);
        bucket.1 = max;
    }
    let observations = buckets[buckets.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let rank = phi * observations;
    let b = buckets
        .iter()
        .position(|bucket| bucket.1 >= rank)
        .unwrap_or(buckets.len() - 1);
    if b == buckets.len() - 1 {
        return buckets[buckets.len() - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (mut start, end) = (0.0, buckets[b].0);
    let mut count = buckets[b].1;
    let mut rank = rank;
    if b > 0 {
        start = buckets[b - 1].0;
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

fn arithmetic<'a>(op: &str, lhs: Value<'a>, rhs: Value<'a>) -> Result<Value<'a>, String> {
    let apply = |a: f64, b: f64| match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        _ => a / b,
    };
    Ok(match (lhs, rhs) {
        (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(apply(a, b)),
        (Value::Vector(v), Value::Scalar(b)) => {
            Value::Vector(v.into_iter().map(|(l, a)| (l, apply(a, b))).collect())
        }
        (Value::Scalar(a), Value::Vector(v)) => {
            Value::Vector(v.into_iter().map(|(l, b)| (l, apply(a, b))).collect())
        }
        (Value::Vector(left), Value::Vector(right)) => {
            // One-to-one on equal label sets, the metric name aside; a label set twice on
            // either side is many-to-one, which Prometheus refuses without group_left/right.
            let left = distinct(left).map_err(|_| many_to_one())?;
            let right = distinct(right).map_err(|_| many_to_one())?;
            Value::Vector(
                left.into_iter()
                    .filter_map(|(l, a)| {
                        let at = right.binary_search_by(|(r, _)| r.cmp(&l)).ok()?;
                        Some((l, apply(a, right[at].1)))
                    })
                    .collect(),
            )
        }
    })
}

fn many_to_one() -> String {
    "a side of the operator has two series with the same labels (many-to-one matching is not supported with metrics-url)".to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    const PAGE: &str = r#"# TYPE http_requests_total counter
http_requests_total{code="200",path="/a"} 100
http_requests_total{code="500",path="/a"} 4
http_requests_total{code="200",path="/b"} 50
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 80
latency_seconds_bucket{le="0.5"} 150
latency_seconds_bucket{le="+Inf"} 154
latency_seconds_sum 20
latency_seconds_count 154
"#;

    fn snapshots(before: &str, after: &str) -> (Snapshot, Snapshot) {
        let t0 = Instant::now();
        (
            Snapshot::parse(before, t0).unwrap(),
            Snapshot::parse(after, t0 + Duration::from_secs(10)).unwrap(),
        )
    }

    fn value(query: &str, before: &str, after: &str) -> Result<f64, String> {
        let expr = prepare(query)?;
        let (prev, cur) = snapshots(before, after);
        eval(&expr, &prev, &cur, 10.0).and_then(single)
    }

    fn page(ok_a: u64, err_a: u64, ok_b: u64) -> String {
        PAGE.replace("} 100", &format!("}} {ok_a}"))
            .replace("} 4\n", &format!("}} {err_a}\n"))
            .replace("} 50", &format!("}} {ok_b}"))
    }

    #[test]
    fn series_whose_hashes_collide_are_joined_to_themselves_only() {
        // Every series hashed alike (exposition.rs `collide`): the merge must tell them apart
        // by their labels, in whatever order each scrape lists them.
        let before = "m{a=\"1\"} 10\nm{a=\"2\"} 100\nm{a=\"3\"} 1000\n";
        let after = "m{a=\"3\"} 1003\nm{a=\"1\"} 15\nm{a=\"2\"} 200\nm{a=\"4\"} 7\n";
        let v =
            |query: &str| crate::metrics::exposition::collide::all(|| value(query, before, after));
        assert_eq!(v(r#"sum(increase(m{a="1"}[1m]))"#), Ok(5.0));
        assert_eq!(v(r#"sum(increase(m{a="2"}[1m]))"#), Ok(100.0));
        assert_eq!(v("sum(increase(m[1m]))"), Ok(108.0));
        assert_eq!(v("sum(m)"), Ok(1225.0));
    }

    #[test]
    fn rate_and_increase_with_matchers() {
        let (before, after) = (page(100, 4, 50), page(190, 14, 50));
        assert_eq!(
            value(
                r#"sum(increase(http_requests_total{code=~"5.."}[2m]))"#,
                &before,
                &after
            ),
            Ok(10.0)
        );
        assert_eq!(
            value(
                r#"sum(rate(http_requests_total{code!="500"}[2m]))"#,
                &before,
                &after
            ),
            Ok(9.0)
        );
        let error_rate = value(
            r#"sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))"#,
            &before,
            &after,
        )
        .unwrap();
        assert!((error_rate - 0.1).abs() < 1e-12, "{error_rate}");
        assert_eq!(
            value(
                r#"sum(rate(http_requests_total{path!~"/a"}[1m])) * 100"#,
                &before,
                &after
            ),
            Ok(0.0)
        );
        // sum by keeps one series per group: two here, so not a single number.
        let by = value(
            "sum by (path) (rate(http_requests_total[1m]))",
            &before,
            &after,
        );
        assert!(by.unwrap_err().contains("2 series"));
    }

    #[test]
    fn a_counter_reset_counts_as_prometheus_counts_it() {
        // The 500 counter restarted from 0 and reached 3: Prometheus adds the value before
        // the reset, so the increase is 3 - 4 + 4 = 3, not -1.
        let (before, after) = (page(100, 4, 50), page(100, 3, 50));
        assert_eq!(
            value(
                r#"sum(increase(http_requests_total{code="500"}[1m]))"#,
                &before,
                &after
            ),
            Ok(3.0)
        );
    }

    #[test]
    fn histogram_quantile_interpolates_in_the_bucket() {
        let before = PAGE.to_owned();
        let after = PAGE
            .replace("le=\"0.1\"} 80", "le=\"0.1\"} 130")
            .replace("le=\"0.5\"} 150", "le=\"0.5\"} 250")
            .replace("le=\"+Inf\"} 154", "le=\"+Inf\"} 254");
        // Increases: 50 in ≤0.1, 100 in ≤0.5, 100 in total: p50 is the rank 50 → 0.1;
        // p95 → rank 95: 0.1 + 0.4 · (45 / 50).
        let q = |phi: &str| {
            value(
                &format!(
                    "histogram_quantile({phi}, sum by (le) (rate(latency_seconds_bucket[1m])))"
                ),
                &before,
                &after,
            )
            .unwrap()
        };
        assert!((q("0.5") - 0.1).abs() < 1e-12, "{}", q("0.5"));
        assert!((q("0.95") - 0.46).abs() < 1e-12, "{}", q("0.95"));
        assert_eq!(
            bucket_quantile(0.99, vec![(1.0, 0.0), (f64::INFINITY, 10.0)]),
            1.0
        );
        assert!(bucket_quantile(0.5, vec![(1.0, 0.0), (f64::INFINITY, 0.0)]).is_nan());
        assert!(bucket_quantile(0.5, vec![(1.0, 1.0), (2.0, 2.0)]).is_nan());
    }

    #[test]
    fn buckets_with_the_same_bound_are_one_bucket() {
        // `le="1"` and `le="1.0"` are the same bound: counts added (coalesceBuckets).
        let page = "h_bucket{le=\"1\",a=\"x\"} 5\nh_bucket{le=\"1.0\",a=\"y\"} 5\n\
            h_bucket{le=\"2\",a=\"x\"} 10\nh_bucket{le=\"+Inf\",a=\"x\"} 10\n\
            h_bucket{le=\"2\",a=\"y\"} 10\nh_bucket{le=\"+Inf\",a=\"y\"} 10\n";
        let p50 = value(
            "histogram_quantile(0.5, sum by (le) (h_bucket))",
            page,
            page,
        )
        .unwrap();
        assert!((p50 - 1.0).abs() < 1e-12, "{p50}");
    }

    #[test]
    fn label_sets_that_collide_are_refused_not_guessed() {
        let page = "a{x=\"1\"} 1\nb{x=\"1\"} 2\nc{x=\"1\"} 3\n";
        let err = value(r#"rate({__name__=~"a|b"}[1m])"#, page, page).unwrap_err();
        assert!(err.contains("same labels"), "{err}");
        let err = value(r#"{__name__=~"a|b"} / c"#, page, page).unwrap_err();
        assert!(err.contains("many-to-one"), "{err}");
        assert_eq!(value("sum(a / c)", page, page), Ok(1.0 / 3.0));
    }

    #[test]
    fn unsupported_constructs_are_named() {
        for (query, named) in [
            ("avg(rate(x[1m]))", "aggregation avg"),
            ("irate(x[1m])", "function irate"),
            ("rate(x[1m] offset 1h)", "offset"),
            ("sum(rate(x[1m])) > 1", "operator >"),
            ("x[1m]", "range selector"),
            ("a / on(b) c", "on(…)"),
        ] {
            let err = prepare(query).unwrap_err();
            assert!(err.contains(named), "{query}: {err}");
        }
        assert!(prepare("sum(rate(x{a=\"b\"}[1m])) / 2 - -1").is_ok());
    }
}

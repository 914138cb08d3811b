//! The Prometheus text exposition format (version 0.0.4), read strictly: one scrape of an
//! app's `/metrics` becomes a [`Snapshot`], its series sorted by name, then by a hash of
//! their label set, so a selector finds its metric by binary search and two scrapes are
//! joined by one merge that compares hashes, not label strings.
//!
//! Our own small lexer, on purpose (bench/README.md, "metrics-url evaluation"): the crates
//! checked were either wrong or slow. `prometheus-parse` 0.2.5 (the newest) splits label
//! values on `,` and `=`, leaves escapes in, skips lines it cannot read and runs a regex
//! per line; `prom_text_format_parser` 0.1.0 keeps `\"` and `\\` escaped in label values;
//! `nom-openmetrics` 0.3 says it does not validate the format; `openmetrics-parser` is
//! LGPL-3.0, which a static binary cannot take. Every rule below follows Prometheus's own
//! parser, prometheus/prometheus model/textparse/promlex.l and promparse.go (read at
//! d15adb9), with the stricter choices of prometheus/common expfmt/text_parse.go (read at
//! d2417e2) where the two differ; line numbers are cited where each rule is applied.
//!
//! The page is hostile input: anything malformed makes the whole scrape unusable (the
//! measurement inconclusive, with the line number and what is wrong, never the page's own
//! text), never a silently different number. Its size is capped where it is read
//! (scrape.rs); here the series count, the labels per series and every name and value's
//! length are capped too.

use std::cmp::Ordering;
use std::time::Instant;

/// At most this many series on one page.
pub const MAX_SERIES: usize = 100_000;
/// At most this many labels on one series.
pub const MAX_LABELS: usize = 64;
/// A metric or label name is at most this long (bytes).
pub const MAX_NAME: usize = 1024;
/// A label value is at most this long (bytes).
pub const MAX_VALUE: usize = 16 << 10;

/// A string in [`Snapshot::strings`]: the page's own bytes, or an unescaped copy after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// One series of a scrape; its strings live in the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    name: Span,
    /// The series as written (`name{…}`): equal text is an equal series, one `memcmp`.
    raw: Span,
    /// FNV-1a of the name and the sorted label pairs: the sort key after the name.
    hash: u64,
    /// Index range into [`Snapshot::pairs`], sorted by label name.
    labels: (u32, u32),
    pub value: f64,
}

/// Everything one scrape returned, sorted by metric name, then label set.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    strings: String,
    pairs: Vec<(Span, Span)>,
    series: Vec<Series>,
    pub at: Option<Instant>,
}

/// A series' labels (the metric name aside), sorted by name, borrowed from the snapshot.
#[derive(Clone, Copy)]
pub struct LabelsRef<'a> {
    strings: &'a str,
    pairs: &'a [(Span, Span)],
}

impl<'a> LabelsRef<'a> {
    /// The value of a label; `""` when absent (PromQL treats both alike).
    pub fn get(&self, name: &str) -> &'a str {
        // The hot path of every matcher: lengths first, then bytes (no UTF-8 boundary checks).
        let bytes = self.strings.as_bytes();
        self.pairs
            .iter()
            .find(|(n, _)| {
                (n.end - n.start) as usize == name.len()
                    && bytes.get(n.start as usize..n.end as usize) == Some(name.as_bytes())
            })
            .map_or("", |(_, v)| resolve(self.strings, *v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let strings = self.strings;
        self.pairs
            .iter()
            .map(move |(n, v)| (resolve(strings, *n), resolve(strings, *v)))
    }
}

fn resolve(strings: &str, span: Span) -> &str {
    &strings[span.start as usize..span.end as usize]
}

impl Snapshot {
    /// Reads a text-format page taken at `at`; a malformed page says where and why.
    pub fn parse(text: &str, at: Instant) -> Result<Self, String> {
        let mut snapshot = Parser::new(text).run()?;
        snapshot.at = Some(at);
        Ok(snapshot)
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Every series, sorted.
    pub fn all(&self) -> &[Series] {
        &self.series
    }

    /// The series of one metric name (binary search: the series are sorted by name).
    pub fn named(&self, name: &str) -> &[Series] {
        let lo = self.series.partition_point(|s| self.name(s) < name);
        let hi = lo + self.series[lo..].partition_point(|s| self.name(s) == name);
        &self.series[lo..hi]
    }

    pub fn name(&self, series: &Series) -> &str {
        resolve(&self.strings, series.name)
    }

    pub fn labels(&self, series: &Series) -> LabelsRef<'_> {
        LabelsRef {
            strings: &self.strings,
            pairs: &self.pairs[series.labels.0 as usize..series.labels.1 as usize],
        }
    }

    /// The sort order of series: name, then label-set hash (the same in every snapshot).
    pub fn order(&self, a: &Series, other: &Snapshot, b: &Series) -> Ordering {
        self.name(a).cmp(other.name(b)).then(a.hash.cmp(&b.hash))
    }

    /// Whether two series (of this snapshot and another) are the same series: the same
    /// text as written, or else the same name and label pairs.
    pub fn same(&self, a: &Series, other: &Snapshot, b: &Series) -> bool {
        a.hash == b.hash
            && (resolve(&self.strings, a.raw) == resolve(&other.strings, b.raw)
                || (self.name(a) == other.name(b)
                    && self.labels(a).iter().eq(other.labels(b).iter())))
    }
}

/// Go's `strconv.ParseFloat` as Prometheus calls it (promparse.go:528-534: no `p`, `P` or
/// `_`, so no hex floats and no digit separators): decimal and exponent forms, `NaN`,
/// `Inf`/`Infinity` with an optional sign (any case). Two places where Rust's parser is more
/// lenient than Go's are refused as Go refuses them: a signed `NaN` (strconv's `special`
/// takes a sign only before `inf`/`infinity`) and a finite number out of range such as
/// `1e400` (ParseFloat's `ErrRange`, which Prometheus turns into a parse error).
pub fn parse_float(text: &str) -> Option<f64> {
    if text.bytes().any(|b| matches!(b, b'p' | b'P' | b'_')) {
        return None;
    }
    let value = text.parse::<f64>().ok()?;
    let unsigned = text.trim_start_matches(['+', '-']);
    if unsigned.eq_ignore_ascii_case("nan") {
        return (unsigned.len() == text.len()).then_some(value);
    }
    let infinity =
        unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity");
    (infinity || value.is_finite()).then_some(value)
}

/// `[a-zA-Z_:]`, promlex.l:49 (`M`).
fn is_metric_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

/// `[a-zA-Z_]`, promlex.l:48 (`L`).
fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

struct Parser<'t> {
    text: &'t str,
    /// Unescaped strings, placed after the page's text in the snapshot.
    extra: String,
    pairs: Vec<(Span, Span)>,
    series: Vec<Series>,
    /// The current line: its bytes, its offset in `text`, the cursor in it, its number.
    line: &'t [u8],
    offset: usize,
    i: usize,
    number: usize,
}

type Step<T> = Result<T, String>;

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            extra: String::new(),
            pairs: Vec::new(),
            series: Vec::new(),
            line: &[],
            offset: 0,
            i: 0,
            number: 0,
        }
    }

    fn fail<T>(&self, what: &str) -> Step<T> {
        Err(format!(
            "the page is malformed at line {}: {what}",
            self.number
        ))
    }

    fn run(mut self) -> Step<Snapshot> {
        if u32::try_from(self.text.len()).is_err() {
            return Err("the page is larger than 4 GiB".to_owned());
        }
        let text = self.text;
        let mut offset = 0;
        for line in text.split('\n') {
            self.number += 1;
            self.line = line.as_bytes();
            self.offset = offset;
            self.i = 0;
            offset += line.len() + 1;
            self.line_entry()?;
        }
        self.finish()
    }

    fn peek(&self) -> Option<u8> {
        self.line.get(self.i).copied()
    }

    fn skip_space(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(is_space) {
            self.i += 1;
        }
        self.i > start
    }

    fn span_here(&self, start: usize, end: usize) -> Span {
        // The page is under 4 GiB (checked in `run`), so offsets fit.
        Span {
            start: (self.offset + start) as u32,
            end: (self.offset + end) as u32,
        }
    }

    /// One line: blank, a comment, `# HELP`/`# TYPE`, or a sample (promparse.go:300-402).
    fn line_entry(&mut self) -> Step<()> {
        // Whitespace is skipped before every token, the first too (promlex.l:63).
        self.skip_space();
        match self.peek() {
            None => Ok(()),
            Some(b'#') => self.comment(),
            Some(_) => self.sample(),
        }
    }

    /// `#[ \t]+HELP[ \t]+name text`, `…TYPE…`, or any other comment (promlex.l:65-71,
    /// 96-105): `# EOF` and OpenMetrics' `# UNIT` are comments here, as in Prometheus.
    fn comment(&mut self) -> Step<()> {
        self.i += 1;
        if !self.skip_space() {
            return Ok(());
        }
        let rest = &self.line[self.i..];
        let keyword = if rest.starts_with(b"HELP") {
            "HELP"
        } else if rest.starts_with(b"TYPE") {
            "TYPE"
        } else {
            return Ok(());
        };
        if !rest.get(4).copied().is_some_and(is_space) {
            return Ok(());
        }
        self.i += 4;
        self.skip_space();
        // The metric name, bare or quoted (promlex.l:69-70; promparse.go:313-324).
        match self.peek() {
            Some(b'"') => {
                self.quoted()?;
            }
            Some(b) if is_metric_start(b) => {
                self.bare(is_metric_start, MAX_NAME)?;
            }
            _ => return self.fail(&format!("expected a metric name after {keyword}")),
        }
        // The rest of the line is the text, less one separating character
        // (promlex.l:71; promparse.go:326-331).
        let text = &self.line[self.i..];
        let text = if text.len() > 1 { &text[1..] } else { &[][..] };
        if keyword == "TYPE" {
            // promparse.go:337-349 takes the five text-format types; OpenMetrics' own four
            // are taken too, as a page served in that format may carry them.
            match text {
                b"counter" | b"gauge" | b"histogram" | b"summary" | b"untyped" | b"unknown"
                | b"gaugehistogram" | b"info" | b"stateset" => {}
                _ => return self.fail("TYPE is not counter, gauge, histogram, summary or untyped"),
            }
        }
        Ok(())
    }

    /// `{M}({M}|{D})*` or `{L}({L}|{D})*`: the span of a bare name at the cursor.
    fn bare(&mut self, start: fn(u8) -> bool, limit: usize) -> Step<Span> {
        let from = self.i;
        if !self.peek().is_some_and(start) {
            return self.fail("expected a name");
        }
        self.i += 1;
        while self
            .peek()
            .is_some_and(|b| start(b) || b.is_ascii_digit() || (b == b':' && start(b':')))
        {
            self.i += 1;
        }
        if self.i - from > limit {
            return self.fail(&format!("a name is longer than {limit} bytes"));
        }
        Ok(self.span_here(from, self.i))
    }

    /// `"(\\.|[^\\"])*"` (promlex.l:77, 81) at the cursor, unescaped as promparse.go:501-518
    /// does (`\"`, `\\`, `\n`; any other escape is kept as written). A raw line break ends
    /// the line first, so the string is unterminated: an error, as in expfmt
    /// text_parse.go:892-894.
    fn quoted(&mut self) -> Step<Span> {
        self.i += 1;
        let from = self.i;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return self.fail("a quoted string is not closed on its line"),
                Some(b'\\') => {
                    escaped = true;
                    self.i += 2;
                    if self.i > self.line.len() {
                        return self.fail("a quoted string is not closed on its line");
                    }
                }
                Some(b'"') => break,
                Some(_) => self.i += 1,
            }
        }
        let to = self.i;
        self.i += 1;
        if to - from > MAX_VALUE {
            return self.fail(&format!("a label value is longer than {MAX_VALUE} bytes"));
        }
        if !escaped {
            return Ok(self.span_here(from, to));
        }
        let raw = &self.text[self.offset + from..self.offset + to];
        let start = self.text.len() + self.extra.len();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                self.extra.push(c);
                continue;
            }
            match chars.clone().next() {
                Some('"') => self.extra.push('"'),
                Some('\\') => self.extra.push('\\'),
                Some('n') => self.extra.push('\n'),
                _ => {
                    self.extra.push('\\');
                    continue;
                }
            }
            chars.next();
        }
        let end = self.text.len() + self.extra.len();
        if u32::try_from(end).is_err() {
            return Err("the page is larger than 4 GiB".to_owned());
        }
        Ok(Span {
            start: start as u32,
            end: end as u32,
        })
    }

    /// A sample: `name{labels} value [timestamp]`, or `{"name", labels} …` (promparse.go:
    /// 371-396, 404-499).
    fn sample(&mut self) -> Step<()> {
        if self.series.len() >= MAX_SERIES {
            return Err(format!("the page has more than {MAX_SERIES} series"));
        }
        let first = self.pairs.len();
        let raw_from = self.i;
        let mut name = None;
        match self.peek() {
            Some(b'{') => {}
            Some(b) if is_metric_start(b) => name = Some(self.bare(is_metric_start, MAX_NAME)?),
            _ => return self.fail("expected a metric name"),
        }
        self.skip_space();
        if self.peek() == Some(b'{') {
            self.i += 1;
            self.labels(&mut name)?;
        }
        let Some(name) = name else {
            return self.fail("the metric name is missing");
        };
        let written = self.span_here(raw_from, self.i);
        self.skip_space();
        // The value: `[^{ \t\n]+` (promlex.l:82), read as Go reads floats.
        let from = self.i;
        while self.peek().is_some_and(|b| !is_space(b) && b != b'{') {
            self.i += 1;
        }
        if from == self.i {
            return self.fail("expected a value after the metric");
        }
        let raw = &self.text[self.offset + from..self.offset + self.i];
        let Some(value) = parse_float(raw) else {
            return self.fail("the value is not a number");
        };
        self.suffix()?;
        let labels = &mut self.pairs[first..];
        labels.sort_unstable_by(|a, b| {
            resolve_pair(self.text, &self.extra, a.0).cmp(resolve_pair(self.text, &self.extra, b.0))
        });
        if labels.windows(2).any(|w| {
            resolve_pair(self.text, &self.extra, w[0].0)
                == resolve_pair(self.text, &self.extra, w[1].0)
        }) {
            // expfmt text_parse.go:431-441.
            return self.fail("a label name appears twice");
        }
        let mut hash = Fnv::default();
        hash.write(resolve_pair(self.text, &self.extra, name));
        for (k, v) in &self.pairs[first..] {
            hash.write(resolve_pair(self.text, &self.extra, *k));
            hash.write(resolve_pair(self.text, &self.extra, *v));
        }
        self.series.push(Series {
            name,
            raw: written,
            hash: hash.0,
            labels: (first as u32, self.pairs.len() as u32),
            value,
        });
        Ok(())
    }

    /// After the value: an optional timestamp, digits only (promlex.l:83; expfmt
    /// text_parse.go:627 reads it as int64), then optionally an OpenMetrics exemplar
    /// ` # {labels} value [timestamp]` (openmetricslex.l:69-79), checked and ignored; then
    /// the end of the line (promparse.go:483-496). The window of every rate is the time
    /// between our own scrapes, so a page's timestamps are checked but not used.
    fn suffix(&mut self) -> Step<()> {
        if !self.skip_space() {
            return match self.peek() {
                None => Ok(()),
                Some(_) => self.fail("expected a space after the value"),
            };
        }
        if self.peek().is_some_and(|b| b.is_ascii_digit()) {
            let from = self.i;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.i += 1;
            }
            let raw = &self.text[self.offset + from..self.offset + self.i];
            if raw.parse::<i64>().is_err() {
                return self.fail("the timestamp is out of range");
            }
            if !self.skip_space() {
                return match self.peek() {
                    None => Ok(()),
                    Some(_) => self.fail("the timestamp is not an integer"),
                };
            }
        }
        match self.peek() {
            None => Ok(()),
            Some(b'#') => self.exemplar(),
            Some(_) => self.fail("expected a timestamp or the end of the line"),
        }
    }

    /// `# {labels} value [timestamp]`, after the sample (openmetricslex.l:69-79).
    fn exemplar(&mut self) -> Step<()> {
        self.i += 1;
        if !self.skip_space() || self.peek() != Some(b'{') {
            return self.fail("expected an exemplar `# {…} value` after the sample");
        }
        self.i += 1;
        let mark = self.pairs.len();
        let mut none = Some(Span { start: 0, end: 0 });
        self.labels(&mut none)?;
        self.pairs.truncate(mark);
        for what in ["value", "timestamp"] {
            let spaced = self.skip_space();
            let from = self.i;
            while self.peek().is_some_and(|b| !is_space(b)) {
                self.i += 1;
            }
            if from == self.i {
                if what == "value" {
                    return self.fail("the exemplar has no value");
                }
                return Ok(());
            }
            let raw = &self.text[self.offset + from..self.offset + self.i];
            if !spaced || parse_float(raw).is_none() {
                return self.fail(&format!("the exemplar's {what} is not a number"));
            }
        }
        self.skip_space();
        match self.peek() {
            None => Ok(()),
            Some(_) => self.fail("unexpected text after the exemplar"),
        }
    }

    /// The label set after `{`, up to and with `}` (promparse.go:404-463): bare or quoted
    /// label names, `=`, a quoted value, an optional `,` (also trailing). A quoted string
    /// followed by `,` or `}` is the metric name (promparse.go:422-435). Empty values are
    /// dropped: an empty label is a missing one (model/labels/labels_common.go:188-192).
    fn labels(&mut self, name: &mut Option<Span>) -> Step<()> {
        loop {
            self.skip_space();
            let key = match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'"') => {
                    let span = self.quoted()?;
                    self.skip_space();
                    if matches!(self.peek(), Some(b',' | b'}')) {
                        if name.is_some() {
                            return self.fail("the metric name is given twice");
                        }
                        *name = Some(span);
                        if self.peek() == Some(b',') {
                            self.i += 1;
                        }
                        continue;
                    }
                    span
                }
                Some(b) if is_label_start(b) => self.bare(is_label_start, MAX_NAME)?,
                _ => return self.fail("expected a label name"),
            };
            self.skip_space();
            if self.peek() != Some(b'=') {
                return self.fail("expected `=` after a label name");
            }
            self.i += 1;
            self.skip_space();
            if self.peek() != Some(b'"') {
                return self.fail("expected a quoted label value");
            }
            let value = self.quoted()?;
            if resolve_pair(self.text, &self.extra, key) == "__name__" {
                // expfmt text_parse.go:413-417.
                return self.fail("the label name __name__ is reserved");
            }
            if value.start != value.end {
                self.pairs.push((key, value));
                if self.pairs.len() > MAX_LABELS + self.series_first() {
                    return self.fail(&format!("a series has more than {MAX_LABELS} labels"));
                }
            }
            self.skip_space();
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
    }

    /// Where the current series' labels start in `pairs`.
    fn series_first(&self) -> usize {
        self.series.last().map_or(0, |s| s.labels.1 as usize)
    }

    /// Sorts the series; a series twice on one page is an error (Prometheus keeps the
    /// first and drops the other with a warning, scrape/scrape.go:2126-2127 and 2020-2021;
    /// we cannot know which one is right, so the scrape is not used).
    fn finish(mut self) -> Step<Snapshot> {
        let mut strings = String::with_capacity(self.text.len() + self.extra.len());
        strings.push_str(self.text);
        strings.push_str(&self.extra);
        let mut snapshot = Snapshot {
            strings,
            pairs: std::mem::take(&mut self.pairs),
            series: Vec::new(),
            at: None,
        };
        let mut series = std::mem::take(&mut self.series);
        // Stable: a page lists a metric's series together, so runs are long and few.
        series.sort_by(|a, b| snapshot.order(a, &snapshot, b));
        // Equal keys are adjacent; a hash collision of two different series is told apart
        // by `same`, which compares the labels themselves.
        let mut twice = None;
        let mut run = 0;
        for i in 1..series.len() {
            if snapshot.order(&series[run], &snapshot, &series[i]) != Ordering::Equal {
                run = i;
                continue;
            }
            if let Some(j) = (run..i).find(|&j| snapshot.same(&series[j], &snapshot, &series[i])) {
                twice = Some(j);
                break;
            }
        }
        if let Some(j) = twice {
            let name: String = snapshot.name(&series[j]).chars().take(100).collect();
            return Err(format!(
                "the page is malformed: a series of {name} appears twice with the same labels"
            ));
        }
        snapshot.series = series;
        Ok(snapshot)
    }
}

/// FNV-1a, 64 bits, each string followed by a 0xff byte (never in UTF-8) as a separator.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, text: &str) {
        for &b in text.as_bytes().iter().chain([0xff].iter()) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn resolve_pair<'a>(text: &'a str, extra: &'a str, span: Span) -> &'a str {
    let (start, end) = (span.start as usize, span.end as usize);
    if start >= text.len() && start != end {
        &extra[start - text.len()..end - text.len()]
    } else {
        &text[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::parse_float;

    #[test]
    fn floats_are_read_as_go_reads_them() {
        assert_eq!(parse_float("1.5e3"), Some(1500.0));
        assert_eq!(parse_float("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("+infinity"), Some(f64::INFINITY));
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
        // Rust reads these; Go's strconv (and so Prometheus) does not.
        assert_eq!(parse_float("+NaN"), None);
        assert_eq!(parse_float("-nan"), None);
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("0x1p3"), None);
        assert_eq!(parse_float("1_000"), None);
    }
}

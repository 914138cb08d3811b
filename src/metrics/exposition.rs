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
//! Only the text format, as Prometheus reads it when a target answers `text/plain` (what our
//! scrape asks for, scrape.rs): the OpenMetrics-only `# TYPE` values (`gaugehistogram`,
//! `info`, `stateset`, `unknown`) and exemplars (`… # {trace_id="…"} 1`) are refused, as
//! promparse.go refuses them (v3.14.0 d7598b7: the TYPE values at 337-350, "invalid metric
//! type"; after a value only a timestamp and the line break, 483-496, "expected timestamp
//! or new record", the lexer having no rule for `#` there, promlex.l:82-84). An app that
//! serves OpenMetrics whatever it is asked fails closed (inconclusive), never half-read.
//!
//! Speed (bench/README.md, "metrics-url evaluation"): the page is moved into the snapshot,
//! not copied; lines and quotes are found with `memchr`; no allocation per line; the
//! label-set hash is foldhash, seeded at random once per process; series are sorted by a
//! rank of their metric name and that hash, two integers, not by strings. foldhash is only
//! "minimally DoS-resistant" and "does not claim to provide HashDoS resistance against
//! interactive attackers" (foldhash 0.2.0 README, "HashDoS resistance"): a page may still
//! make series collide. A collision costs time, never a wrong result: series with equal
//! hashes are told apart by their labels (`same`), pairwise within a run of equal hashes
//! (quadratic in its length, bounded by [`MAX_SERIES`]), when a page is sorted and when two
//! scrapes are joined (evaluate.rs); a test hashes every series alike to show it.
//!
//! The page is hostile input: anything malformed makes the whole scrape unusable (the
//! measurement inconclusive, with the line number and what is wrong, never the page's own
//! text), never a silently different number. Its size is capped where it is read
//! (scrape.rs); here the series count, the labels per series and every name and value's
//! length are capped too.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;
use std::time::Instant;

use foldhash::HashMap;
use foldhash::fast::{FoldHasher, SeedableRandomState};

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
    /// The name and the sorted label pairs, hashed: the sort key after the name.
    hash: u64,
    /// Index range into [`Snapshot::pairs`], sorted by label name.
    labels: (u32, u32),
    /// While reading: which distinct metric name of the page; then its rank among them.
    rank: u32,
    pub value: f64,
}

impl Series {
    /// The hash of its name and labels: among the series of one metric name, their order.
    pub fn hash(&self) -> u64 {
        self.hash
    }
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

/// The label-set hasher: one random seed per process, the same for every snapshot, so the
/// hashes of two scrapes can be compared.
fn hasher() -> FoldHasher<'static> {
    static STATE: OnceLock<SeedableRandomState> = OnceLock::new();
    STATE
        .get_or_init(SeedableRandomState::random)
        .build_hasher()
}

/// A series' label-set hash; under `cfg(test)`, [`collide::all`] makes it one constant for
/// every series, the worst a crafted page could do.
fn finish(hash: &FoldHasher<'_>) -> u64 {
    #[cfg(test)]
    if collide::ON.with(std::cell::Cell::get) {
        return 0;
    }
    hash.finish()
}

/// Tests only: every series hashed alike.
#[cfg(test)]
pub(crate) mod collide {
    use std::cell::Cell;

    thread_local! {
        pub(super) static ON: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` with every series of every page it reads hashed to the same value.
    pub(crate) fn all<T>(f: impl FnOnce() -> T) -> T {
        ON.set(true);
        let result = f();
        ON.set(false);
        result
    }
}

impl Snapshot {
    /// Reads a text-format page taken at `at`; a malformed page says where and why. The
    /// page is kept in the snapshot (moved, not copied, when given as a `String`).
    pub fn parse(text: impl Into<String>, at: Instant) -> Result<Self, String> {
        Self::read(text.into(), at)
    }

    fn read(mut page: String, at: Instant) -> Result<Self, String> {
        if u32::try_from(page.len()).is_err() {
            return Err("the page is larger than 4 GiB".to_owned());
        }
        let read = Parser::new(&page).run()?;
        if u32::try_from(page.len() + read.extra.len()).is_err() {
            return Err("the page is larger than 4 GiB".to_owned());
        }
        page.push_str(&read.extra);
        let mut snapshot = Snapshot {
            strings: page,
            pairs: read.pairs,
            series: read.series,
            at: Some(at),
        };
        snapshot.sort(&read.names)?;
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

    /// Sorts the series by name, then hash; a series twice on one page is an error
    /// (Prometheus keeps the first and drops the other with a warning, scrape/scrape.go:
    /// 2126-2127 and 2020-2021, read at d15adb9; we cannot know which one is right, so the
    /// scrape is not used). `names` are the page's distinct metric names, indexed by the
    /// series' `rank` as read.
    fn sort(&mut self, names: &[Span]) -> Result<(), String> {
        let mut by_name: Vec<u32> = (0..names.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| {
            resolve(&self.strings, names[a as usize]).cmp(resolve(&self.strings, names[b as usize]))
        });
        let mut rank = vec![0; names.len()];
        for (r, &id) in by_name.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        let mut series = std::mem::take(&mut self.series);
        for s in &mut series {
            s.rank = rank[s.rank as usize];
        }
        series.sort_unstable_by_key(|s| (s.rank, s.hash));
        // Equal keys are adjacent; a hash collision of two different series is told apart
        // by `same`, which compares the labels themselves.
        let mut run = 0;
        for i in 1..series.len() {
            if (series[run].rank, series[run].hash) != (series[i].rank, series[i].hash) {
                run = i;
                continue;
            }
            // Not the series' name: never the page's own text in a message (above).
            if (run..i).any(|j| self.same(&series[j], self, &series[i])) {
                return Err(
                    "the page is malformed: a series appears twice with the same name and labels"
                        .to_owned(),
                );
            }
        }
        self.series = series;
        Ok(())
    }
}

/// Go's `strconv.ParseFloat` as Prometheus calls it (promparse.go:528-534: no `p`, `P` or
/// `_`, so no hex floats and no digit separators): decimal and exponent forms, `NaN`,
/// `Inf`/`Infinity` with an optional sign (any case). Two places where Rust's parser is more
/// lenient than Go's are refused as Go refuses them: a signed `NaN` (strconv's `special`
/// takes a sign only before `inf`/`infinity`) and a finite number out of range such as
/// `1e400` (ParseFloat's `ErrRange`, which Prometheus turns into a parse error).
pub fn parse_float(text: &str) -> Option<f64> {
    let value = text.parse::<f64>().ok()?;
    if text.bytes().any(|b| matches!(b, b'p' | b'P' | b'_')) {
        return None;
    }
    if value.is_finite() {
        return Some(value);
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    if unsigned.eq_ignore_ascii_case("nan") {
        return (unsigned.len() == text.len()).then_some(value);
    }
    (unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity"))
        .then_some(value)
}

/// `{M}({M}|{D})*` (promlex.l:49, `M` = `[a-zA-Z_:]`) when `metric`, else `{L}({L}|{D})*`
/// (promlex.l:48, `L` = `[a-zA-Z_]`): whether `b` may continue (or, not a digit, start) one.
fn is_name_byte(b: u8, metric: bool) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || (metric && b == b':')
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// What the reader hands to [`Snapshot::read`].
struct Read {
    extra: String,
    pairs: Vec<(Span, Span)>,
    series: Vec<Series>,
    /// The page's distinct metric names, in the order first seen.
    names: Vec<Span>,
}

struct Parser<'t> {
    text: &'t str,
    read: Read,
    /// The index in `names` of each distinct name, by its text (unescaped names are owned:
    /// they live in `extra`, which grows).
    ids: HashMap<Box<str>, u32>,
    /// The current line: its bytes, its offset in `text`, the cursor in it, its number.
    line: &'t [u8],
    offset: usize,
    i: usize,
    number: usize,
}

type Step<T> = Result<T, String>;

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        // One series per line at most: the vectors are sized once (and capped, as a page of
        // blank lines must not reserve for series it does not have).
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
        let series = lines.min(MAX_SERIES);
        Self {
            text,
            read: Read {
                extra: String::new(),
                pairs: Vec::with_capacity(series * 2),
                series: Vec::with_capacity(series),
                names: Vec::new(),
            },
            ids: HashMap::default(),
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

    fn run(mut self) -> Step<Read> {
        let bytes = self.text.as_bytes();
        let mut offset = 0;
        let ends = memchr::memchr_iter(b'\n', bytes).chain([bytes.len()]);
        for end in ends {
            self.number += 1;
            self.line = &bytes[offset..end];
            self.offset = offset;
            self.i = 0;
            offset = end + 1;
            self.line_entry()?;
        }
        Ok(self.read)
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
        // The page is under 4 GiB (checked in `read`), so offsets fit.
        Span {
            start: (self.offset + start) as u32,
            end: (self.offset + end) as u32,
        }
    }

    /// The text of a span while reading: the page's or an unescaped one in `extra`.
    #[inline]
    fn str_of(&self, span: Span) -> &str {
        let (start, end) = (span.start as usize, span.end as usize);
        let len = self.text.len();
        if start >= len && start != end {
            &self.read.extra[start - len..end - len]
        } else {
            &self.text[start..end]
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
            Some(b) if is_name_byte(b, true) && !b.is_ascii_digit() => {
                self.bare(true)?;
            }
            _ => return self.fail(&format!("expected a metric name after {keyword}")),
        }
        // The rest of the line is the text, less one separating character
        // (promlex.l:71; promparse.go:326-331).
        let text = &self.line[self.i..];
        let text = if text.len() > 1 { &text[1..] } else { &[][..] };
        if keyword == "TYPE" {
            // The five types of the text format, and no others (promparse.go:337-350 at
            // v3.14.0): OpenMetrics' gaugehistogram, info, stateset and unknown are refused.
            match text {
                b"counter" | b"gauge" | b"histogram" | b"summary" | b"untyped" => {}
                _ => return self.fail("TYPE is not counter, gauge, histogram, summary or untyped"),
            }
        }
        Ok(())
    }

    /// `{M}({M}|{D})*` (`metric`) or `{L}({L}|{D})*`: the span of a bare name at the cursor.
    fn bare(&mut self, metric: bool) -> Step<Span> {
        let from = self.i;
        if !self
            .peek()
            .is_some_and(|b| is_name_byte(b, metric) && !b.is_ascii_digit())
        {
            return self.fail("expected a name");
        }
        let rest = &self.line[from..];
        let len = rest
            .iter()
            .position(|&b| !is_name_byte(b, metric))
            .unwrap_or(rest.len());
        self.i += len;
        if len > MAX_NAME {
            return self.fail(&format!("a name is longer than {MAX_NAME} bytes"));
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
            let Some(at) = self
                .line
                .get(self.i..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
            else {
                return self.fail("a quoted string is not closed on its line");
            };
            self.i += at;
            if self.line[self.i] == b'"' {
                break;
            }
            // A backslash: it and the byte after it are one escape.
            escaped = true;
            self.i += 2;
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
        let extra = &mut self.read.extra;
        let start = self.text.len() + extra.len();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                extra.push(c);
                continue;
            }
            match chars.clone().next() {
                Some('"') => extra.push('"'),
                Some('\\') => extra.push('\\'),
                Some('n') => extra.push('\n'),
                _ => {
                    extra.push('\\');
                    continue;
                }
            }
            chars.next();
        }
        let end = self.text.len() + extra.len();
        if u32::try_from(end).is_err() {
            return Err("the page is larger than 4 GiB".to_owned());
        }
        Ok(Span {
            start: start as u32,
            end: end as u32,
        })
    }

    /// Which distinct metric name of the page `name` is: the one before (a page lists a
    /// metric's series together), else looked up, else a new one.
    fn name_id(&mut self, name: Span) -> u32 {
        if let Some(last) = self.read.series.last()
            && self.str_of(last.name) == self.str_of(name)
        {
            return last.rank;
        }
        let text = self.str_of(name);
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.read.names.len() as u32;
        self.ids.insert(text.into(), id);
        self.read.names.push(name);
        id
    }

    /// A sample: `name{labels} value [timestamp]`, or `{"name", labels} …` (promparse.go:
    /// 371-396, 404-499).
    fn sample(&mut self) -> Step<()> {
        if self.read.series.len() >= MAX_SERIES {
            return Err(format!("the page has more than {MAX_SERIES} series"));
        }
        let first = self.read.pairs.len();
        let raw_from = self.i;
        let mut name = None;
        match self.peek() {
            Some(b'{') => {}
            Some(b) if is_name_byte(b, true) && !b.is_ascii_digit() => {
                name = Some(self.bare(true)?);
            }
            _ => return self.fail("expected a metric name"),
        }
        self.skip_space();
        if self.peek() == Some(b'{') {
            self.i += 1;
            self.labels(&mut name, first)?;
        }
        let Some(name) = name else {
            return self.fail("the metric name is missing");
        };
        let written = self.span_here(raw_from, self.i);
        self.skip_space();
        // The value: `[^{ \t\n]+` (promlex.l:82), read as Go reads floats.
        let from = self.i;
        let rest = &self.line[from..];
        self.i += rest
            .iter()
            .position(|&b| is_space(b) || b == b'{')
            .unwrap_or(rest.len());
        if from == self.i {
            return self.fail("expected a value after the metric");
        }
        let raw = &self.text[self.offset + from..self.offset + self.i];
        let Some(value) = parse_float(raw) else {
            return self.fail("the value is not a number");
        };
        self.suffix()?;
        let mut labels = std::mem::take(&mut self.read.pairs);
        let mine = &mut labels[first..];
        if !mine.is_sorted_by(|a, b| self.str_of(a.0) <= self.str_of(b.0)) {
            mine.sort_unstable_by(|a, b| self.str_of(a.0).cmp(self.str_of(b.0)));
        }
        let twice = mine
            .windows(2)
            .any(|w| self.str_of(w[0].0) == self.str_of(w[1].0));
        let mut hash = hasher();
        self.str_of(name).hash(&mut hash);
        for (k, v) in mine.iter() {
            self.str_of(*k).hash(&mut hash);
            self.str_of(*v).hash(&mut hash);
        }
        self.read.pairs = labels;
        if twice {
            // expfmt text_parse.go:431-441.
            return self.fail("a label name appears twice");
        }
        let rank = self.name_id(name);
        self.read.series.push(Series {
            name,
            raw: written,
            hash: finish(&hash),
            labels: (first as u32, self.read.pairs.len() as u32),
            rank,
            value,
        });
        Ok(())
    }

    /// After the value: an optional timestamp, digits only (promlex.l:83; expfmt
    /// text_parse.go:627 reads it as int64), then the end of the line (promparse.go:
    /// 483-496 at v3.14.0). The window of every rate is the time between our own scrapes, so a page's
    /// timestamps are checked but not used.
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
            Some(b'#') => self.fail(
                "an exemplar (OpenMetrics) after the value: the text format has none; serve text/plain",
            ),
            Some(_) => self.fail("expected a timestamp or the end of the line"),
        }
    }

    /// The label set after `{`, up to and with `}` (promparse.go:404-463): bare or quoted
    /// label names, `=`, a quoted value, an optional `,` (also trailing). A quoted string
    /// followed by `,` or `}` is the metric name (promparse.go:422-435). Empty values are
    /// dropped: an empty label is a missing one (model/labels/labels_common.go:188-192).
    /// The series' pairs start at `first` in `pairs`.
    fn labels(&mut self, name: &mut Option<Span>, first: usize) -> Step<()> {
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
                Some(b) if is_name_byte(b, false) && !b.is_ascii_digit() => self.bare(false)?,
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
            if self.str_of(key) == "__name__" {
                // expfmt text_parse.go:413-417.
                return self.fail("the label name __name__ is reserved");
            }
            if value.start != value.end {
                self.read.pairs.push((key, value));
                if self.read.pairs.len() > MAX_LABELS + first {
                    return self.fail(&format!("a series has more than {MAX_LABELS} labels"));
                }
            }
            self.skip_space();
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::{Snapshot, collide, parse_float};

    #[test]
    fn colliding_series_are_neither_duplicates_nor_one() {
        let page = "m{a=\"1\"} 1\nm{a=\"2\"} 2\nm{b=\"1\"} 3\nm 4\n";
        let snapshot = collide::all(|| Snapshot::parse(page, Instant::now())).unwrap();
        let series = snapshot.named("m");
        assert_eq!(series.len(), 4);
        assert!(series.iter().all(|s| s.hash() == 0));
        let mut values: Vec<f64> = series.iter().map(|s| s.value).collect();
        values.sort_by(f64::total_cmp);
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0]);
        // The same series twice is still found among them, without its name.
        let twice = "m{a=\"1\"} 1\nm{a=\"2\"} 2\nm_secret_name{a=\"1\"} 1\nm{a=\"1\"} 5\n";
        let err = collide::all(|| Snapshot::parse(twice, Instant::now())).unwrap_err();
        assert!(err.contains("appears twice"), "{err}");
        assert!(!err.contains("m{") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn a_duplicate_series_is_reported_without_the_pages_text() {
        let page = "evil_name{a=\"1\"} 1\nevil_name{a=\"1\"} 2\n";
        let err = Snapshot::parse(page, Instant::now()).unwrap_err();
        assert!(err.contains("appears twice"), "{err}");
        assert!(!err.contains("evil"), "{err}");
    }

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

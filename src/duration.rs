//! Durations as inputs write them: `30` (seconds), `250ms`, `30s`, `5m`, `1h`, `7d`.

use std::time::Duration;

/// The accepted forms, for error messages.
pub const FORMS: &str = "use 30, 250ms, 30s, 5m, 1h or 7d";

/// Parses a duration; the error says what is wrong, without the input's name.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let invalid = || format!("{text:?} is not a duration; {FORMS}");
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let seconds_per_unit = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(invalid()),
    };
    let seconds = value * seconds_per_unit;
    // Ten years is far beyond any deadline a deploy needs; it also keeps Duration in range.
    if !seconds.is_finite() || seconds > 315_360_000.0 {
        return Err(format!("{text:?} is too long a duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Formats a duration for people: `250ms`, `1.5s`, `2m 5s`, `1h 2m`.
pub fn human(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = duration.as_secs_f64();
    if secs < 60.0 {
        let tenths = (secs * 10.0).round() / 10.0;
        return if tenths.fract() == 0.0 {
            format!("{tenths:.0}s")
        } else {
            format!("{tenths:.1}s")
        };
    }
    let whole = duration.as_secs();
    if whole >= 2 * 86_400 {
        let (d, h) = (whole / 86_400, (whole % 86_400) / 3600);
        return if h == 0 {
            format!("{d}d")
        } else {
            format!("{d}d {h}h")
        };
    }
    let (h, m, s) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    match (h, m, s) {
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse(" 5m "), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "s",
            "5x",
            "-1",
            "1e3",
            "5 minutes",
            ".5s",
            "5.",
            "99999999999h",
            "1..2",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(125)), "2m 5s");
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(3720)), "1h 2m");
        assert_eq!(human(Duration::from_secs(30 * 86_400 - 60)), "29d 23h");
    }
}

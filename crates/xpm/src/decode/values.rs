//! How XPM's element text becomes a typed value. XPM uses an absent element, an empty element and
//! whitespace-only text interchangeably for "no value", so each of them reads as `None`.

use crate::XpmDate;

use super::pull::is_xml_space;

/// A plain value: surrounding whitespace dropped, `None` when nothing is left.
pub(crate) fn text(raw: &str) -> Option<String> {
    let t = raw.trim_matches(is_xml_space);
    (!t.is_empty()).then(|| t.to_owned())
}

/// A multi-line value such as `<PostalAddress>`: XPM indents continuation lines to the
/// document's nesting, so each line is trimmed and blank lines are dropped.
pub(crate) fn lines(raw: &str) -> Option<String> {
    let raw = raw.trim_matches(is_xml_space);
    if !raw.contains('\n') {
        return (!raw.is_empty()).then(|| raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    for line in raw
        .split('\n')
        .map(|l| l.trim_matches(is_xml_space))
        .filter(|l| !l.is_empty())
    {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    Some(out)
}

/// `Yes`/`No` (XPM's spelling), `true`/`false` (in any case) or `1`/`0`. The error is the reason
/// the value could not be read.
pub(crate) fn boolean(raw: &str) -> Result<Option<bool>, String> {
    let t = raw.trim_matches(is_xml_space);
    if t.is_empty() {
        Ok(None)
    } else if t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("true") || t == "1" {
        Ok(Some(true))
    } else if t.eq_ignore_ascii_case("no") || t.eq_ignore_ascii_case("false") || t == "0" {
        Ok(Some(false))
    } else {
        Err("is not Yes or No".to_owned())
    }
}

/// One of the date forms XPM writes (see [`XpmDate`]). The error is the reason the value could not
/// be read; a day and month written with slashes or dots (`01/03/2024`) is never guessed: the
/// practice's locale decides which comes first, and a wrong guess would be a wrong date kept.
pub(crate) fn date(raw: &str) -> Result<Option<XpmDate>, String> {
    let t = raw.trim_matches(is_xml_space);
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<XpmDate>().map(Some).map_err(|_| {
        if is_day_month_ambiguous(t) {
            "is an ambiguous date (day and month could be either way round)".to_owned()
        } else {
            "is not a date (expected yyyy-MM-ddTHH:mm:ss, yyyy-MM-dd or yyyyMMdd)".to_owned()
        }
    })
}

/// `01/03/2024`, `1.3.24 09:30`: two small numbers first, either of which could be the month.
fn is_day_month_ambiguous(t: &str) -> bool {
    let date = t.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
    let small = |p: &str| matches!(p.parse::<u32>(), Ok(1..=12)) && p.len() <= 2;
    parts.len() == 3 && small(parts[0]) && small(parts[1]) && parts[2].len() >= 2
}

/// What a warning keeps of the value XPM sent: enough to find it in XPM, never a whole paragraph.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_no_value() {
        assert_eq!(text(""), None);
        assert_eq!(text(" \n\t "), None);
        assert_eq!(text("  Acme Ltd \n"), Some("Acme Ltd".into()));
        // NBSP is content, not XML whitespace.
        assert_eq!(text("\u{a0}"), Some("\u{a0}".into()));
    }

    #[test]
    fn address_lines_are_trimmed_and_blank_lines_dropped() {
        assert_eq!(
            lines("\n        Level 3\n        \n        12 Queen St  \n      "),
            Some("Level 3\n12 Queen St".into())
        );
        assert_eq!(lines("PO Box 7"), Some("PO Box 7".into()));
        assert_eq!(lines("  \n  \n"), None);
    }

    #[test]
    fn booleans_in_any_case() {
        for (raw, want) in [
            ("Yes", Some(true)),
            ("YES", Some(true)),
            (" yes ", Some(true)),
            ("true", Some(true)),
            ("TRUE", Some(true)),
            ("No", Some(false)),
            ("no", Some(false)),
            ("False", Some(false)),
            ("", None),
            ("  ", None),
        ] {
            assert_eq!(boolean(raw), Ok(want), "{raw:?}");
        }
        assert_eq!(boolean("1"), Ok(Some(true)));
        assert_eq!(boolean("0"), Ok(Some(false)));
        assert!(boolean("maybe").unwrap_err().contains("not Yes or No"));
        assert!(boolean("2").is_err());
    }

    #[test]
    fn dates_in_the_three_forms() {
        assert_eq!(date(" 2020-02-29 ").unwrap().unwrap().to_string(), "2020-02-29");
        assert_eq!(date("20200229").unwrap().unwrap().to_string(), "2020-02-29");
        assert_eq!(
            date("2020-02-29T13:14:15").unwrap().unwrap().to_string(),
            "2020-02-29T13:14:15"
        );
        assert_eq!(date(""), Ok(None));
        assert!(date("29/02/2020").unwrap_err().contains("not a date"));
        assert!(date("01/03/2024 09:30").unwrap_err().contains("ambiguous"));
        assert!(date("1.3.24").unwrap_err().contains("ambiguous"));
        let long = "x".repeat(500);
        assert!(date(&long).unwrap_err().len() < 200);
        assert_eq!(shorten(&long).chars().count(), 81);
    }

    #[test]
    fn zones_and_fractions_are_read_as_the_wall_clock_written() {
        for (raw, want) in [
            ("1980-02-29T00:00:00+13:00", "1980-02-29T00:00:00"),
            ("1980-02-29T00:00:00-0500", "1980-02-29T00:00:00"),
            ("2024-03-01T09:30:00Z", "2024-03-01T09:30:00"),
            ("2024-03-01T09:30:00.1234567", "2024-03-01T09:30:00"),
            ("2024-03-01T09:30:00.5Z", "2024-03-01T09:30:00"),
        ] {
            assert_eq!(date(raw).unwrap().unwrap().to_string(), want, "{raw}");
        }
        for bad in [
            "2024-03-01T09:30:00+25:00",
            "2024-03-01T09:30:00.",
            "2024-03-01T09:30:00 PM",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }
}

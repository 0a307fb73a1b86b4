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

/// `Yes`/`No` (XPM's spelling) or `true`/`false`, in any case.
pub(crate) fn boolean(raw: &str) -> Result<Option<bool>, String> {
    let t = raw.trim_matches(is_xml_space);
    if t.is_empty() {
        Ok(None)
    } else if t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("true") {
        Ok(Some(true))
    } else if t.eq_ignore_ascii_case("no") || t.eq_ignore_ascii_case("false") {
        Ok(Some(false))
    } else {
        Err(format!("`{}` is not Yes or No", shorten(t)))
    }
}

/// One of the three date forms XPM writes (see [`XpmDate`]).
pub(crate) fn date(raw: &str) -> Result<Option<XpmDate>, String> {
    let t = raw.trim_matches(is_xml_space);
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<XpmDate>().map(Some).map_err(|_| {
        format!(
            "`{}` is not a date (expected yyyy-MM-ddTHH:mm:ss, yyyy-MM-dd or yyyyMMdd)",
            shorten(t)
        )
    })
}

/// Keeps error messages readable when the offending value is a whole paragraph.
fn shorten(s: &str) -> String {
    const MAX: usize = 60;
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
        assert!(boolean("maybe").unwrap_err().contains("`maybe`"));
        assert!(boolean("1").is_err());
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
        let long = "x".repeat(500);
        assert!(date(&long).unwrap_err().len() < 200);
    }
}

//! vCard 4.0 (RFC 6350) for focal points: one card each, CRLF line ends, values escaped (backslash,
//! comma, semicolon, newline) and lines folded at 75 octets without splitting a character.

use crate::FocalPoint;
use std::fmt::Write;

/// Escapes a text value (RFC 6350, 3.4): backslash, comma and newline always; semicolons only in
/// the fields of compound properties (N, ORG), where they would split a field. Elsewhere escaping
/// them is optional, and several readers would keep the backslash.
pub fn escape(value: &str) -> String {
    escape_as(value, false)
}

fn escape_field(value: &str) -> String {
    escape_as(value, true)
}

fn escape_as(value: &str, compound: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' if compound => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line into lines of at most 75 octets, continuation lines starting with a space.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// Splits a display name into family and given names for `N`: the last word is taken as the family
/// name, which is right for most names in the directory and harmless for the rest (`FN` keeps the
/// name as written).
fn family_and_given(name: &str) -> (String, String) {
    match name.trim().rsplit_once(' ') {
        Some((given, family)) => (family.to_owned(), given.to_owned()),
        None => (name.trim().to_owned(), String::new()),
    }
}

/// One focal point as a vCard.
pub fn card(fp: &FocalPoint) -> String {
    let mut lines: Vec<String> = vec!["BEGIN:VCARD".into(), "VERSION:4.0".into()];
    lines.push(format!("UID:urn:uuid:{}", fp.id));
    lines.push(format!("FN:{}", escape(&fp.name)));
    let (family, given) = family_and_given(&fp.name);
    lines.push(format!(
        "N:{};{};;;",
        escape_field(&family),
        escape_field(&given)
    ));
    lines.push(format!("ORG:{}", escape_field(&fp.agency_name)));
    if let Some(title) = &fp.title {
        lines.push(format!("TITLE:{}", escape(title)));
    }
    lines.push(format!(
        "ROLE:{}",
        escape(&format!("ICAT {} focal point", fp.role.as_str()))
    ));
    lines.push(format!("EMAIL;TYPE=work:{}", escape(&fp.email)));
    if let Some(phone) = &fp.phone {
        let digits: String = phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        lines.push(format!("TEL;VALUE=uri;TYPE=work:tel:{digits}"));
    }
    for (i, lang) in fp.languages.iter().enumerate() {
        lines.push(format!("LANG;PREF={}:{}", i + 1, escape(lang)));
    }
    let mut note = format!(
        "ICAT {} focal point of {} ({})",
        fp.role.as_str(),
        fp.agency_acronym,
        fp.agency_name
    );
    if !fp.countries.is_empty() {
        let _ = write!(note, ". Countries: {}", fp.countries.join(", "));
    }
    if !fp.themes.is_empty() {
        let _ = write!(note, ". Themes: {}", fp.themes.join(", "));
    }
    if let Some(until) = fp.valid_until {
        let _ = write!(note, ". Designation ended on {until}");
    }
    lines.push(format!("NOTE:{}", escape(&note)));
    lines.push(format!("REV:{}", fp.updated_at.format("%Y%m%dT%H%M%SZ")));
    lines.push("END:VCARD".into());
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b;c\\\\d\\ne");
        assert_eq!(escape_field("a,b;c"), "a\\,b\\;c");
    }

    #[test]
    fn long_lines_fold_at_75_octets_on_character_boundaries() {
        let mut out = String::new();
        let line = format!("NOTE:{}", "é".repeat(60));
        fold(&line, &mut out);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), line);
    }

    proptest::proptest! {
        /// Whatever a focal point's fields hold, the card stays a card: CRLF only between
        /// lines, every physical line at most 75 octets, and unfolding gives back whole values.
        #[test]
        fn any_text_makes_a_well_formed_card(value in "\\PC{0,300}|[,;\\\\\\r\\n a-z]{0,100}") {
            let escaped = escape(&value);
            proptest::prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
            let mut out = String::new();
            fold(&format!("NOTE:{escaped}"), &mut out);
            proptest::prop_assert!(out.ends_with("\r\n"));
            for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
                proptest::prop_assert!(physical.len() <= 75);
                proptest::prop_assert!(!physical.contains('\r') && !physical.contains('\n'));
            }
            let _ = family_and_given(&value);
        }
    }

    #[test]
    fn names_split_into_family_and_given() {
        assert_eq!(
            family_and_given("Jane Q. Doe"),
            ("Doe".to_owned(), "Jane Q.".to_owned())
        );
        assert_eq!(
            family_and_given("Madonna"),
            ("Madonna".to_owned(), String::new())
        );
    }
}

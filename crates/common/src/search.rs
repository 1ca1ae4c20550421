//! Search terms: text folded to lower-case words without diacritics, so that "Müller" is found by
//! "muller" and "Jane.Doe@UNODC.org" by "unodc". Stored one row a term and looked up by prefix
//! range, which an ordinary index answers on both backends.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-case, diacritic-free words of a text, in order, without repeats.
pub fn terms(text: &str) -> Vec<String> {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for word in folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word: String = word.chars().take(64).collect();
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// The exclusive upper bound of the terms that start with `prefix` (byte order, which SQLite uses
/// and PostgreSQL uses for columns with `COLLATE "C"`).
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The longest search text a list accepts (`q`): longer ones are refused rather than cut.
pub const MAX_QUERY_CHARS: usize = 500;

/// A list's `q` parameter: blank means no search; longer than [`MAX_QUERY_CHARS`] is a 400.
pub fn query(raw: Option<String>) -> Result<Option<String>, crate::ApiError> {
    match raw {
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => Err(crate::ApiError::bad_request(
            format!("q must be at most {MAX_QUERY_CHARS} characters"),
        )),
        Some(q) if !q.trim().is_empty() => Ok(Some(q)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_fold_case_and_diacritics() {
        assert_eq!(terms("Jane.Doe@UNODC.org"), ["jane", "doe", "unodc", "org"]);
        assert_eq!(terms("Müller, Héloïse — Müller"), ["muller", "heloise"]);
        assert_eq!(terms("  "), Vec::<String>::new());
        assert!(prefix_end("jan").as_str() > "janet");
        assert!(prefix_end("jan").as_str() < "jao");
    }
}

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

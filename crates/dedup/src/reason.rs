//! Why a pair was flagged, as data: each reason says what it found with a stable `code` and its
//! `params` (counts, country and theme codes, dates), and [`Said::english`] words it for the API's
//! `detail`. The interface words the same code in its own language, with names instead of codes.

use std::collections::BTreeMap;

use serde::Serialize;

/// One parameter of a reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Param {
    Count(usize),
    Text(String),
    /// Codes (countries, themes, SDG targets) or words (phase markers).
    List(Vec<String>),
}

/// What one reason found: its code and parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Said {
    pub code: &'static str,
    pub params: BTreeMap<&'static str, Param>,
}

impl Said {
    pub fn new(code: &'static str) -> Self {
        Said {
            code,
            params: BTreeMap::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: Param) -> Self {
        self.params.insert(name, value);
        self
    }

    pub fn count(self, name: &'static str, n: usize) -> Self {
        self.with(name, Param::Count(n))
    }

    pub fn text(self, name: &'static str, text: impl ToString) -> Self {
        self.with(name, Param::Text(text.to_string()))
    }

    pub fn list<S: AsRef<str>>(self, name: &'static str, items: &[S]) -> Self {
        let items = items.iter().map(|s| s.as_ref().to_owned()).collect();
        self.with(name, Param::List(items))
    }

    fn param(&self, name: &str) -> String {
        match self.params.get(name) {
            Some(Param::Count(n)) => n.to_string(),
            Some(Param::Text(s)) => s.clone(),
            Some(Param::List(items)) => items.join(", "),
            None => String::new(),
        }
    }

    /// The reason in English, as the API's `detail` gives it (and as every client without a
    /// translation of the code shows it).
    pub fn english(&self) -> String {
        let p = |name| self.param(name);
        match self.code {
            "title_words" => format!("titles share {} words", p("shared")),
            "description_words" => {
                format!("{} of {} distinct words in common", p("shared"), p("of"))
            }
            "no_countries" => "no countries named".to_owned(),
            "same_countries" => format!("same countries: {}", p("items")),
            "countries_within" => format!("one's countries include the other's: {}", p("items")),
            "shared_countries" => format!("shared countries: {}", p("items")),
            "no_country_shared" => "no country in common".to_owned(),
            "period_overlap" => format!("periods overlap {} of {} days", p("days"), p("span")),
            "period_apart" => format!(
                "periods do not overlap ({} to {}, {} to {})",
                p("a_start"),
                p("a_end"),
                p("b_start"),
                p("b_end")
            ),
            "shared_themes" => format!("shared themes: {}", p("items")),
            "no_theme_shared" => "no themes in common".to_owned(),
            "shared_sdg_targets" => format!("shared SDG targets: {}", p("items")),
            "no_sdg_target_shared" => "no SDG targets in common".to_owned(),
            "target_group_words" => format!("{} target-group words in common", p("shared")),
            "shared_partners" => format!("{} partners in common", p("shared")),
            "same_phase" => format!("same phase or edition: {}", p("a")),
            "different_phase" => {
                format!("different phase or edition: [{}] and [{}]", p("a"), p("b"))
            }
            meaning => {
                let said = match meaning {
                    "meaning_same" => "say the same thing",
                    "meaning_much" => "say much the same",
                    "meaning_related" => "say related things",
                    _ => "say different things",
                };
                let languages = match (self.params.get("a_language"), self.params.get("b_language"))
                {
                    (Some(Param::Text(a)), Some(Param::Text(b))) => format!(
                        " in {} and {}",
                        crate::text::Language::name(a),
                        crate::text::Language::name(b)
                    ),
                    _ => String::new(),
                };
                format!("the texts {said}{languages} (meaning {} %)", p("percent"))
            }
        }
    }
}

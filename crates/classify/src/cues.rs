//! The shipped cue files (`cues/*.toml`): themes, flags and the sentiment lexicon.

use serde::Deserialize;

use crate::{FlagDef, ThemeDef};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LangLexicon {
    pub(crate) positive: Vec<String>,
    pub(crate) negative: Vec<String>,
    pub(crate) negators: Vec<String>,
    pub(crate) intensifiers: Vec<String>,
    #[serde(default)]
    pub(crate) post_intensifiers: Vec<String>,
    pub(crate) downtoners: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LexiconFile {
    pub(crate) en: LangLexicon,
    pub(crate) cy: LangLexicon,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThemeFile {
    pub(crate) theme: Vec<ThemeDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagFile {
    pub(crate) flag: Vec<FlagDef>,
}

pub(crate) const POS: usize = 0;
pub(crate) const NEG: usize = 1;

/// The shipped theme list (`cues/themes.toml`).
pub fn builtin_themes() -> Vec<ThemeDef> {
    toml::from_str::<ThemeFile>(include_str!("../cues/themes.toml"))
        .expect("cues/themes.toml is checked by the crate's tests")
        .theme
}

/// The shipped flag lists (`cues/flags.toml`).
pub fn builtin_flags() -> Vec<FlagDef> {
    toml::from_str::<FlagFile>(include_str!("../cues/flags.toml"))
        .expect("cues/flags.toml is checked by the crate's tests")
        .flag
}

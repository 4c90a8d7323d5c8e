//! chorus-core: the platform-free model behind every Chorus widget and the collector server.
//!
//! No I/O, no clock, no web dependency: the same code is compiled natively into the server and
//! to wasm32 into the widgets, so a score is the same number in both places. The modules follow
//! the life of a response:
//!
//! - [`instrument`]: what is asked (versioned JSON definitions) and checking a definition;
//! - [`aid`]: a decision aid's outcome rates (natural frequencies, both framings in words), its
//!   required information and review date, read and checked by [`aid::load`];
//! - [`response`]: what was answered, and checking it against its instrument;
//! - [`score`](mod@score): the brief's scoring rules, exactly, behind one [`score::score`] entry point;
//! - [`aggregate`]: mergeable streaming accumulators and publication (small-number suppression);
//! - [`redact`]: removing personal data from free text before it is stored;
//! - [`spc`]: statistical process control charts (XmR) with the special-cause rules;
//! - [`gap`]: experience gaps between groups of patients, and under-representation;
//! - [`library`] (feature `library`): the instruments Chorus ships;
//! - [`readability`] and [`standards`] (feature `authoring`, off in the widget): reading age,
//!   the IPDAS / NICE NG197 lints and the self-assessment behind `chorus check`.
//!
//! Arithmetic is exact where it can be ([`num::Ratio`]); where `f64` is used it is only
//! `+ − × ÷` and `sqrt`, which IEEE 754 defines exactly on every target.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aggregate;
pub mod aid;
pub mod gap;
pub mod instrument;
#[cfg(feature = "library")]
pub mod library;
pub mod mode;
pub mod num;
#[cfg(feature = "authoring")]
pub mod readability;
pub mod redact;
pub mod response;
pub mod score;
pub mod spc;
#[cfg(feature = "authoring")]
pub mod standards;
pub mod suppress;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod text;
pub mod withdraw;

pub use instrument::{DefinitionCode, DefinitionProblem, Instrument, Item, ItemKind, Scoring};
pub use response::{Answer, ErrorCode, Response, ResponseError, validate_response};
pub use score::{ScoreReport, score};
pub use text::{Locale, Text};

/// The mandated Friends and Family Test question, a public NHS England standard: a constant so
/// widgets and tests use the exact wording, which may not be altered.
pub const FFT_QUESTION_EN: &str = "Overall, how was your experience of our service?";

/// Whether a language's wording of the mandated FFT question may be taken as the question
/// itself (a response in it counts as an answer to [`FFT_QUESTION_EN`]), or is a draft
/// translation that a fluent speaker has still to approve. See [`fft_question_status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranslationStatus {
    /// The mandated wording itself (English), or a translation a fluent speaker has approved.
    Approved,
    /// A draft awaiting review by a fluent speaker.
    Draft,
}

impl TranslationStatus {
    /// The word web teams read in `manifest.json` and each fetched locale file's
    /// `fft_question`: `approved` or `draft`.
    pub fn as_str(self) -> &'static str {
        match self {
            TranslationStatus::Approved => "approved",
            TranslationStatus::Draft => "draft",
        }
    }
}

/// The status of each interface language's wording of the mandated FFT question: English is
/// the mandated wording ([`FFT_QUESTION_EN`], which every FFT variant asks verbatim); every
/// translation is our own draft, awaiting review by a fluent speaker, Welsh included (as
/// `fft.json`'s `translation_status` says), until one approves it. A reviewer who approves a
/// wording changes it here and in that language's file (the Welsh in `fft.json`, a fetched
/// locale's `fft_question`); tests hold the three in agreement.
pub fn fft_question_status(l: Locale) -> TranslationStatus {
    match l {
        Locale::En => TranslationStatus::Approved,
        Locale::Cy | Locale::Ar | Locale::Pl | Locale::Ur | Locale::Ro => TranslationStatus::Draft,
    }
}

/// The standard FFT's definition (`instruments/fft.json`), outside the `library` feature: the
/// widget draws `<chorus-fft>` from it with no request, through the same code as any instrument.
pub const FFT_JSON: &str = include_str!("../instruments/fft.json");

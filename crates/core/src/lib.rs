//! chorus-core: the platform-free model behind every Chorus widget and the collector server.
//!
//! No I/O, no web dependency: the same code is compiled natively into the server and to
//! wasm32 into the widgets, so a score is the same number in both places.

/// The mandated Friends and Family Test question, a public NHS England standard.
pub const FFT_QUESTION_EN: &str = "Overall, how was your experience of our service?";

//! The interface's words, one table per locale: a translator edits one file (`en.rs`,
//! `cy.rs`, `ar.rs`). Code names a string by its field, `t!(l, field)`, and the widget picks
//! the table for its language ([`crate::i18n::Ui::pick`]).

mod ar;
mod cy;
mod en;

pub use ar::{ABOUT_TEXTS, AR, TEXTS};
pub use cy::CY;
pub use en::EN;

/// Every string the widgets show, by name. One field per sentence or phrase.
#[allow(missing_docs)]
pub struct Strings {
    pub loading: &'static str,
    pub sorry_this_form_is_not: &'static str,
    pub enter_an_answer: &'static str,
    pub select_an_answer: &'static str,
    pub your_answer_must_be: &'static str,
    pub characters_or_fewer: &'static str,
    pub check_this_answer: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub not_answered: &'static str,
    pub out_of: &'static str,
    pub error: &'static str,
    pub or: &'static str,
    pub thats_right: &'static str,
    pub not_quite_the_answer_is: &'static str,
    pub back: &'static str,
    pub page: &'static str,
    pub of: &'static str,
    pub sending: &'static str,
    pub send_feedback: &'static str,
    pub save_and_go_back: &'static str,
    pub continue_on: &'static str,
    pub see_your_summary: &'static str,
    pub check_your_answers: &'static str,
    pub send_my_answers_anonymously: &'static str,
    pub send_answers: &'static str,
    pub check_your_answers_before_sending: &'static str,
    pub change: &'static str,
    pub print_your_summary: &'static str,
    pub save_your_summary: &'static str,
    pub change_your_answers: &'static str,
    pub you_can_send_your_answers: &'static str,
    pub there_is_a_problem: &'static str,
    pub we_could_not_send_your: &'static str,
    pub your_answers_could_not_be: &'static str,
    pub sorry_this_feedback_form_is: &'static str,
    pub you_can_give_your_feedback: &'static str,
    pub give_your_feedback_another_way: &'static str,
    pub you_can_give_your_feedback_2: &'static str,
    pub thank_you_your_answers_have: &'static str,
    pub your_reference_is: &'static str,
    pub your_answers_are_saved_on: &'static str,
    pub we_could_not_reach_our: &'static str,
    pub characters_too_many: &'static str,
    pub characters_remaining: &'static str,
    pub you_can_enter_up_to: &'static str,
    pub characters: &'static str,
    pub to_protect_your_privacy_we: &'static str,
    pub your_answers_lean_towards: &'static str,
    pub you_have_not_said_how: &'static str,
    pub your_answers_do_not_lean: &'static str,
    pub this_is_worked_out_from: &'static str,
    pub what_matters_to_you: &'static str,
    pub the_answer_is: &'static str,
    pub what_you_know: &'static str,
    pub you_answered: &'static str,
    pub questions_correctly: &'static str,
    pub how_sure_you_feel: &'static str,
    pub you_answered_yes_to_all: &'static str,
    pub you_answered_no_to_at: &'static str,
    pub you_have_not_answered_all: &'static str,
    pub your_summary: &'static str,
    pub example_content_not_clinical_advice: &'static str,
    pub example_content_not_clinical_advice_2: &'static str,
    pub skip_these_questions_and_send: &'static str,
    pub your_feedback_is_sent_either_way: &'static str,
    /// The six agreement answers, in the core's order (`AGREEMENT_ANSWERS`).
    pub agreement: [&'static str; 6],
}

/// The string named `$k` in the widget's language `$l`.
macro_rules! t {
    ($l:expr, $k:ident) => {
        $crate::i18n::Ui::pick(
            $l,
            stringify!($k),
            $crate::strings::EN.$k,
            $crate::strings::CY.$k,
            $crate::strings::AR.$k,
        )
    };
}
pub(crate) use t;

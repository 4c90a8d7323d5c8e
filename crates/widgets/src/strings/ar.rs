//! Arabic (العربية): a MACHINE DRAFT, AWAITING REVIEW by a fluent Arabic speaker before any
//! trust uses it with patients. A field left out falls back to English (`..EN` below), and the
//! loader marks such text `lang="en"`. Add a draft by adding its field here.

use super::{Strings, en::EN};

/// Arabic interface drafts.
pub const AR: Strings = Strings {
    loading: "جارٍ التحميل…",
    error: "خطأ: ",
    sending: "جارٍ الإرسال…",
    send_feedback: "أرسل ملاحظاتك",
    there_is_a_problem: "توجد مشكلة",
    we_could_not_send_your: "تعذّر إرسال إجاباتك. تحقّق من اتصالك وحاول مرة أخرى؛ إجاباتك ما زالت هنا.",
    thank_you_your_answers_have: "شكرًا لك، تم إرسال إجاباتك",
    your_reference_is: "رقمك المرجعي هو ",
    your_withdrawal_code_is: "رمز السحب الخاص بك هو ",
    you_can: "يمكنك ",
    withdraw_your_feedback: "سحب ملاحظاتك",
    with_it_and_your_reference: " باستخدامه مع رقمك المرجعي خلال ",
    days_it_is_shown_only: " يومًا. لن يظهر إلا هنا، فاحتفظ به في مكان آمن.",
    your_answers_are_saved_on: "تم حفظ إجاباتك على هذا الجهاز",
    we_could_not_reach_our: "تعذّر الوصول إلى خادمنا الآن. سنرسل إجاباتك تلقائيًا عند عودتك إلى الاتصال بالإنترنت. لا تحتاج إلى تعبئة النموذج مرة أخرى.",
    characters_too_many: "حرفًا زائدًا",
    characters_remaining: "حرفًا متبقيًا",
    to_protect_your_privacy_we: "لحماية خصوصيتك، سنحذف التفاصيل الشخصية قبل حفظ تعليقك. سيُحفظ هكذا:",
    ..EN
};

/// Drafts of instrument texts (the built-in FFT's), keyed by the English text: instruments
/// have English and Welsh only, so an Arabic widget finds its words here, and shows an
/// instrument in Arabic only when every one of its texts has a draft.
pub const TEXTS: &[(&str, &str)] = &[
    (
        "Overall, how was your experience of our service?",
        "بشكل عام، كيف كانت تجربتك مع خدمتنا؟",
    ),
    ("Very good", "جيدة جدًا"),
    ("Good", "جيدة"),
    ("Neither good nor poor", "لا جيدة ولا سيئة"),
    ("Poor", "سيئة"),
    ("Very poor", "سيئة جدًا"),
    ("Don't know", "لا أعرف"),
    (
        "Do not include your name or other details that could identify you.",
        "لا تذكر اسمك أو أي تفاصيل أخرى قد تكشف هويتك.",
    ),
    ("Friends and Family Test", "اختبار الأصدقاء والعائلة"),
    (
        "Your answers are anonymous and help us improve care.",
        "إجاباتك مجهولة الهوية وتساعدنا على تحسين الرعاية.",
    ),
    (
        "Please tell us why you gave that answer",
        "يُرجى إخبارنا بسبب اختيارك هذه الإجابة",
    ),
    (
        "Is there anything we could have done better?",
        "هل هناك أي شيء كان بإمكاننا فعله بشكل أفضل؟",
    ),
];

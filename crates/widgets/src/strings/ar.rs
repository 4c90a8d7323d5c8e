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
    back: "رجوع",
    continue_on: "متابعة",
    send_answers: "أرسل الإجابات",
    skip_these_questions_and_send: "تخطَّ هذه الأسئلة وأرسل",
    your_feedback_is_sent_either_way: "تُرسل ملاحظاتك سواء أجبت عن هذه الأسئلة أم لا. لا يظهر أي شيء تختاره هنا في إيصالك ولا يُحفظ على هذا الجهاز.",
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

/// Drafts of the "About you" questions' texts (`about-you.json`), looked up like [`TEXTS`].
pub const ABOUT_TEXTS: &[(&str, &str)] = &[
    ("About you (optional)", "عنك (اختياري)"),
    (
        "These questions are optional: skip any or all of them. We ask so we can check that everyone gets the same good care, whoever they are. Your answers are kept apart from anything you wrote, only the patient experience team sees them, and they are only ever reported for groups of people, never on their own.",
        "هذه الأسئلة اختيارية: يمكنك تخطي أي منها أو جميعها. نسألها لنتحقق من أن الجميع يحصلون على الرعاية الجيدة نفسها، أيًّا كانوا. تُحفظ إجاباتك بعيدًا عن أي شيء كتبته، ولا يطّلع عليها إلا فريق تجربة المرضى، ولا تُعرض إلا لمجموعات من الناس، وليس منفردة أبدًا.",
    ),
    ("Prefer not to say", "أفضّل عدم الإجابة"),
    ("Yes", "نعم"),
    ("No", "لا"),
    ("How old are you?", "كم عمرك؟"),
    ("Under 16", "أقل من 16"),
    ("16 to 24", "من 16 إلى 24"),
    ("25 to 34", "من 25 إلى 34"),
    ("35 to 44", "من 35 إلى 44"),
    ("45 to 54", "من 45 إلى 54"),
    ("55 to 64", "من 55 إلى 64"),
    ("65 to 74", "من 65 إلى 74"),
    ("75 to 84", "من 75 إلى 84"),
    ("85 or older", "85 أو أكثر"),
    ("What is your sex?", "ما جنسك؟"),
    ("Female", "أنثى"),
    ("Male", "ذكر"),
    (
        "A question about gender identity follows.",
        "يليه سؤال عن الهوية الجندرية.",
    ),
    (
        "Is the gender you identify with the same as the sex you were registered with at birth?",
        "هل الجندر الذي تعرّف نفسك به هو نفسه الجنس الذي سُجّلت به عند الولادة؟",
    ),
    (
        "Which of these best describes your ethnic group or background?",
        "أيٌّ مما يلي يصف مجموعتك العرقية أو خلفيتك على أفضل وجه؟",
    ),
    (
        "These are the groups the census in England and Wales uses.",
        "هذه هي المجموعات التي يستخدمها التعداد السكاني في إنجلترا وويلز.",
    ),
    (
        "Asian or Asian British: Bangladeshi",
        "آسيوي أو آسيوي بريطاني: بنغلاديشي",
    ),
    (
        "Asian or Asian British: Chinese",
        "آسيوي أو آسيوي بريطاني: صيني",
    ),
    (
        "Asian or Asian British: Indian",
        "آسيوي أو آسيوي بريطاني: هندي",
    ),
    (
        "Asian or Asian British: Pakistani",
        "آسيوي أو آسيوي بريطاني: باكستاني",
    ),
    (
        "Asian or Asian British: another Asian background",
        "آسيوي أو آسيوي بريطاني: خلفية آسيوية أخرى",
    ),
    (
        "Black, Black British, Caribbean or African: African",
        "أسود أو أسود بريطاني أو كاريبي أو أفريقي: أفريقي",
    ),
    (
        "Black, Black British, Caribbean or African: Caribbean",
        "أسود أو أسود بريطاني أو كاريبي أو أفريقي: كاريبي",
    ),
    (
        "Black, Black British, Caribbean or African: another Black background",
        "أسود أو أسود بريطاني أو كاريبي أو أفريقي: خلفية سوداء أخرى",
    ),
    (
        "Mixed or multiple groups: White and Asian",
        "مختلط أو مجموعات متعددة: أبيض وآسيوي",
    ),
    (
        "Mixed or multiple groups: White and Black African",
        "مختلط أو مجموعات متعددة: أبيض وأسود أفريقي",
    ),
    (
        "Mixed or multiple groups: White and Black Caribbean",
        "مختلط أو مجموعات متعددة: أبيض وأسود كاريبي",
    ),
    (
        "Mixed or multiple groups: another mixed background",
        "مختلط أو مجموعات متعددة: خلفية مختلطة أخرى",
    ),
    (
        "White: English, Welsh, Scottish, Northern Irish or British",
        "أبيض: إنجليزي أو ويلزي أو اسكتلندي أو من أيرلندا الشمالية أو بريطاني",
    ),
    ("White: Irish", "أبيض: أيرلندي"),
    (
        "White: Gypsy or Irish Traveller",
        "أبيض: غجري أو من الرحّالة الأيرلنديين",
    ),
    ("White: Roma", "أبيض: روما"),
    ("White: another White background", "أبيض: خلفية بيضاء أخرى"),
    ("Another ethnic group: Arab", "مجموعة عرقية أخرى: عربي"),
    (
        "Another ethnic group not listed",
        "مجموعة عرقية أخرى غير مذكورة",
    ),
    (
        "Do you have a physical or mental health condition or illness that has lasted, or that you expect to last, a year or more?",
        "هل لديك حالة صحية جسدية أو نفسية أو مرض استمر، أو تتوقع أن يستمر، سنة أو أكثر؟",
    ),
    (
        "Does a condition or illness like that limit what you can do day to day?",
        "هل تحدّ حالة أو مرض كهذا مما يمكنك فعله في حياتك اليومية؟",
    ),
    (
        "Leave this out if you do not have a long-term condition.",
        "تخطَّ هذا السؤال إن لم تكن لديك حالة طويلة الأمد.",
    ),
    ("Yes, a lot", "نعم، كثيرًا"),
    ("Yes, a little", "نعم، قليلًا"),
    ("No, not at all", "لا، إطلاقًا"),
    (
        "What is your religion, if you have one?",
        "ما ديانتك، إن كانت لديك ديانة؟",
    ),
    ("No religion", "بلا ديانة"),
    ("Buddhist", "بوذي"),
    ("Christian (any denomination)", "مسيحي (أي طائفة)"),
    ("Hindu", "هندوسي"),
    ("Jewish", "يهودي"),
    ("Muslim", "مسلم"),
    ("Sikh", "سيخي"),
    ("Another religion", "ديانة أخرى"),
    (
        "Which of these best describes your sexual orientation?",
        "أيٌّ مما يلي يصف ميولك الجنسية على أفضل وجه؟",
    ),
    ("Straight or heterosexual", "مغاير الجنس"),
    ("Gay or lesbian", "مثلي أو مثلية"),
    ("Bisexual", "مزدوج الميول الجنسية"),
    ("Another sexual orientation", "ميول جنسية أخرى"),
    (
        "Do you give unpaid care or support to someone because of their illness, disability, age or a mental health condition?",
        "هل تقدّم رعاية أو دعمًا دون أجر لشخص ما بسبب مرضه أو إعاقته أو عمره أو حالة صحية نفسية؟",
    ),
    ("What is your main language?", "ما لغتك الرئيسية؟"),
    ("English", "الإنجليزية"),
    ("Welsh", "الويلزية"),
    ("Polish", "البولندية"),
    ("Romanian", "الرومانية"),
    ("Urdu", "الأردية"),
    ("Punjabi", "البنجابية"),
    ("Bengali", "البنغالية"),
    ("Arabic", "العربية"),
    ("British Sign Language", "لغة الإشارة البريطانية"),
    ("Another language", "لغة أخرى"),
];

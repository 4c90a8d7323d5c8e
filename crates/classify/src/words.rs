//! A comment as words: lower case, accents folded, in clauses and sentences (step 1 of the
//! crate's reading).

#[derive(Clone, Debug)]
pub(crate) struct Tok {
    /// Lower case, accents folded.
    pub(crate) norm: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) clause: usize,
    pub(crate) sentence: usize,
}

/// Clause-breaking words.
pub(crate) const CLAUSE_WORDS: &[&str] = &[
    "but", "although", "though", "however", "whereas", "except", "ond", "er", "serch",
];

pub(crate) fn fold(c: char) -> char {
    match c {
        'â' | 'á' | 'à' | 'ä' => 'a',
        'ê' | 'é' | 'è' | 'ë' => 'e',
        'î' | 'í' | 'ì' | 'ï' => 'i',
        'ô' | 'ó' | 'ò' | 'ö' => 'o',
        'û' | 'ú' | 'ù' | 'ü' => 'u',
        'ŵ' | 'ẃ' | 'ẁ' | 'ẅ' => 'w',
        'ŷ' | 'ý' | 'ỳ' | 'ÿ' => 'y',
        '’' | '‘' | 'ʼ' => '\'',
        c => c,
    }
}

/// Split `text` into words with clause and sentence numbers.
pub(crate) fn tokenize(text: &str) -> Vec<Tok> {
    let mut toks: Vec<Tok> = Vec::new();
    let (mut clause, mut sentence) = (0usize, 0usize);
    let mut cur: Option<(usize, String)> = None;
    let mut in_bracket = false;
    let push = |toks: &mut Vec<Tok>,
                start: usize,
                end: usize,
                word: String,
                clause: &mut usize,
                sentence: usize| {
        let w = word.trim_matches('\'').to_string();
        if w.is_empty() {
            return;
        }
        // Offsets of the trimmed word inside the original.
        let lead = word.len() - word.trim_start_matches('\'').len();
        let start = start + lead;
        let end = start + w.len().min(end - start);
        if CLAUSE_WORDS.contains(&w.as_str()) {
            *clause += 1;
            return;
        }
        // Welsh 'n and 'r: "teimlo'n" is "teimlo yn", "i'r" is "i yr".
        let english_re = matches!(w.as_str(), "they're" | "we're" | "you're");
        let welsh = if let Some(stem) = w.strip_suffix("'n").filter(|s| !s.is_empty()) {
            Some((stem, "yn"))
        } else {
            w.strip_suffix("'r")
                .filter(|s| !s.is_empty() && !english_re)
                .map(|stem| (stem, "yr"))
        };
        // The word (or the Welsh word before its 'n or 'r), then "yn" or "yr" over the rest.
        let mut push = |norm: String, start: usize, end: usize| {
            toks.push(Tok {
                norm,
                start,
                end,
                clause: *clause,
                sentence,
            });
        };
        match welsh {
            Some((stem, particle)) => {
                push(stem.into(), start, start + stem.len());
                push(particle.into(), start + stem.len(), end);
            }
            None => push(w, start, end),
        }
    };
    for (i, ch) in text.char_indices() {
        if in_bracket {
            if ch == ']' {
                in_bracket = false;
            }
            continue;
        }
        let c = fold(ch);
        if c.is_alphanumeric() || c == '\'' || c == '&' {
            let lower: String = c.to_lowercase().map(fold).collect();
            match &mut cur {
                Some((_, w)) => w.push_str(&lower),
                None => cur = Some((i, lower)),
            }
            continue;
        }
        if let Some((s, w)) = cur.take() {
            push(&mut toks, s, i, w, &mut clause, sentence);
        }
        match c {
            '[' => in_bracket = true,
            '.' | '!' | '?' | '\n' => {
                sentence += 1;
                clause += 1;
            }
            ',' | ';' | ':' | '(' | ')' | '—' | '–' => clause += 1,
            _ => {}
        }
    }
    if let Some((s, w)) = cur.take() {
        push(&mut toks, s, text.len(), w, &mut clause, sentence);
    }
    toks
}

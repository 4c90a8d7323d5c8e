//! What staff accounts accept: e-mail addresses (checked and normalised) and passwords (long
//! enough, not common, not the address).

/// Shortest password accepted: length is what makes a password hard to guess.
pub const MIN_PASSWORD: usize = 12;

/// Longest password accepted (argon2 takes any length; this only bounds the work per request).
pub const MAX_PASSWORD: usize = 1024;

/// Longest e-mail address (RFC 5321's limit on a forward path).
pub const MAX_EMAIL: usize = 254;

/// The shipped list of common passwords (see the file's header for how it is used).
const COMMON: &str = include_str!("../common-passwords.txt");

/// Why an e-mail address is refused, or `Ok` with it normalised (trimmed, lower case).
pub fn check_email(email: &str) -> Result<String, String> {
    let email = email.trim();
    if email.len() > MAX_EMAIL {
        return Err(format!(
            "an e-mail address has at most {MAX_EMAIL} characters"
        ));
    }
    let email = email.to_lowercase();
    let shown = || format!("\"{email}\" is not an e-mail address");
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(format!("{} (it has no @)", shown()));
    };
    // The dot-atom form of RFC 5322 (what every mail provider issues); quoted local parts and
    // address literals are not accepted for staff accounts.
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(atext));
    if !local_ok {
        return Err(format!("{} (the part before the @ is not valid)", shown()));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld = labels.last().copied().unwrap_or("");
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || (tld.starts_with("xn--") && tld.len() > 4);
    if labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        return Err(format!(
            "{} (the part after the @ must be a domain such as nhs.net)",
            shown()
        ));
    }
    Ok(email)
}

/// Why a password is refused, if it is.
pub fn check_password(password: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if password.trim().is_empty() {
        return Err("a password cannot be only spaces".into());
    }
    if n < MIN_PASSWORD {
        return Err(format!("passwords need at least {MIN_PASSWORD} characters"));
    }
    if n > MAX_PASSWORD {
        return Err(format!("passwords have at most {MAX_PASSWORD} characters"));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 3 {
        return Err(
            "that password repeats one or two characters: choose one that is harder to guess"
                .into(),
        );
    }
    let lower = password.to_lowercase();
    if !email.is_empty() && lower.contains(&email.trim().to_lowercase()) {
        return Err("a password cannot contain the e-mail address".into());
    }
    if is_common(&lower) {
        return Err(
            "that password is on the list of commonly used passwords: choose another (three or four unrelated words work well)"
                .into(),
        );
    }
    Ok(())
}

/// Is `lower` (a lower-cased password) a common password, a common one followed only by
/// digits and punctuation, or a common one repeated?
fn is_common(lower: &str) -> bool {
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let unpunctuated = lower.trim_end_matches(|c: char| c.is_ascii_punctuation());
    let squashed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|w| {
            w == lower
                || w == base
                || w == unpunctuated
                || w == squashed
                || (lower.len() > w.len()
                    && lower.len().is_multiple_of(w.len())
                    && lower.as_bytes().chunks(w.len()).all(|c| c == w.as_bytes()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked() {
        assert_eq!(
            check_email(" Ann.Smith+ward7@Trust.NHS.uk ").as_deref(),
            Ok("ann.smith+ward7@trust.nhs.uk")
        );
        assert!(check_email("zoë@example.com").is_ok());
        for bad in [
            "a@b",
            "a@b.c",
            "ab",
            "@nhs.net",
            "a@",
            "a..b@nhs.net",
            ".a@nhs.net",
            "a@-nhs.net",
            "a@nhs..net",
            "a b@nhs.net",
            "a@nhs.net.",
            "a@nhs.n3t",
            "\"a\"@nhs.net",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        let long = format!("{}@nhs.net", "a".repeat(200_000));
        assert!(check_email(&long).unwrap_err().contains("at most 254"));
        assert!(check_email(&format!("{}@nhs.net", "a".repeat(65))).is_err());
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password("correct horse battery", "a@nhs.net").is_ok());
        assert!(check_password("chorus-demo-password", "a@nhs.net").is_ok());
        for (bad, why) in [
            ("            ", "only spaces"),
            ("\t\t\t\t\t\t\t\t\t\t\t\t\t", "only spaces"),
            ("short", "at least 12"),
            ("aaaaaaaaaaaa", "repeats"),
            ("abababababab", "repeats"),
            ("password1234", "commonly used"),
            ("Password2026!", "commonly used"),
            ("QWERTYUIOP12", "commonly used"),
            ("qwertyqwertyqwerty", "commonly used"),
            ("correct horse battery staple", "commonly used"),
            ("iloveyou!!!!!!", "commonly used"),
            ("123456789012!", "commonly used"),
            ("my a@nhs.net password", "e-mail address"),
        ] {
            let e = check_password(bad, "a@nhs.net").unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(
            check_password(&"ab3".repeat(400), "")
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn the_common_list_is_a_few_hundred_lower_case_entries() {
        let words: Vec<&str> = COMMON
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(words.len() >= 300, "{}", words.len());
        assert!(
            words
                .iter()
                .all(|w| *w == w.to_lowercase() && !w.contains(' '))
        );
    }
}

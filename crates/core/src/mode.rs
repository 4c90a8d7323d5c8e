//! How a response was collected: the closed list the envelope's `mode` field takes, and how
//! each maps to the mode columns of NHS England's Friends and Family Test return.
//!
//! One list for the widget's attribute, the API's check, the hosted pages, the dashboard's
//! filter and the return, so a new channel is added here and nowhere else.

/// A mode of collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// A web page (the embed on a trust's site, or a hosted page reached by a typed address).
    Online,
    /// A link in a text message.
    Sms,
    /// A hosted page reached by scanning a poster's QR code.
    Qr,
    /// A tablet or kiosk in the service (`<chorus-fft kiosk>`).
    Tablet,
    /// A paper card, keyed in by staff.
    Paper,
    /// Asked over the telephone (keyed by staff or an automated call).
    Telephone,
    /// Anything else.
    Other,
}

impl Mode {
    /// Every mode, in the order reports list them.
    pub const ALL: [Mode; 7] = [
        Mode::Online,
        Mode::Sms,
        Mode::Qr,
        Mode::Tablet,
        Mode::Paper,
        Mode::Telephone,
        Mode::Other,
    ];

    /// The code in envelopes, links and attributes.
    pub fn code(self) -> &'static str {
        match self {
            Mode::Online => "online",
            Mode::Sms => "sms",
            Mode::Qr => "qr",
            Mode::Tablet => "tablet",
            Mode::Paper => "paper",
            Mode::Telephone => "telephone",
            Mode::Other => "other",
        }
    }

    /// The mode for a code (exact, lower case); `None` for anything else.
    pub fn from_code(code: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.code() == code)
    }

    /// Words for staff pages.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Online => "Online",
            Mode::Sms => "Text message (SMS)",
            Mode::Qr => "QR code",
            Mode::Tablet => "Tablet or kiosk",
            Mode::Paper => "Paper",
            Mode::Telephone => "Telephone",
            Mode::Other => "Other",
        }
    }

    /// The FFT return's mode column: NHS England publishes SMS, electronic (tablets and
    /// kiosks, app, web), paper, telephone, online and other; a QR code leads to a web page,
    /// so it is counted as online.
    pub fn return_column(self) -> &'static str {
        match self {
            Mode::Online | Mode::Qr => "Online",
            Mode::Sms => "SMS",
            Mode::Tablet => "Electronic",
            Mode::Paper => "Paper",
            Mode::Telephone => "Telephone",
            Mode::Other => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_nothing_else_is_a_mode() {
        for m in Mode::ALL {
            assert_eq!(Mode::from_code(m.code()), Some(m));
        }
        for bad in ["", "Online", "ONLINE", "email", "online ", "sms\0"] {
            assert_eq!(Mode::from_code(bad), None, "{bad:?}");
        }
    }
}

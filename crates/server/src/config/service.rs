//! A site's services: what a widget's `service` attribute names, and what the NHS England
//! Friends and Family Test return needs to know of each (its setting, and for inpatient wards
//! the ward and the specialty).
//!
//! In the TOML a service is either its id alone (`services = ["ward-3"]`, as before) or a table
//! (`services = [{ id = "ward-3", setting = "inpatient", ward_code = "W3", specialty_code =
//! "300" }]`). The dashboard's site settings page (`crate::dashboard::site_settings`) may
//! replace a site's list at run time; the checks here are the same for both.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The NHS England FFT settings: one CSV of the monthly return each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FftSetting {
    /// Inpatients (acute wards), returned by ward and specialty.
    Inpatient,
    /// Emergency departments (A&E).
    Ae,
    /// Maternity services.
    Maternity,
    /// Outpatients.
    Outpatient,
    /// Mental health services.
    MentalHealth,
    /// Community services.
    Community,
    /// Ambulance (patient transport and see-and-treat).
    Ambulance,
    /// GP practices.
    Gp,
    /// Dental practices.
    Dental,
}

impl FftSetting {
    /// Every setting, in the order the exports page lists them.
    pub const ALL: [FftSetting; 9] = [
        FftSetting::Inpatient,
        FftSetting::Ae,
        FftSetting::Maternity,
        FftSetting::Outpatient,
        FftSetting::MentalHealth,
        FftSetting::Community,
        FftSetting::Ambulance,
        FftSetting::Gp,
        FftSetting::Dental,
    ];

    /// The code in the TOML, the site settings form and export links.
    pub fn code(self) -> &'static str {
        match self {
            FftSetting::Inpatient => "inpatient",
            FftSetting::Ae => "ae",
            FftSetting::Maternity => "maternity",
            FftSetting::Outpatient => "outpatient",
            FftSetting::MentalHealth => "mental-health",
            FftSetting::Community => "community",
            FftSetting::Ambulance => "ambulance",
            FftSetting::Gp => "gp",
            FftSetting::Dental => "dental",
        }
    }

    /// The setting for a code; `None` for anything else.
    pub fn from_code(code: &str) -> Option<FftSetting> {
        FftSetting::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The name in the return's `Setting` column and on staff pages.
    pub fn label(self) -> &'static str {
        match self {
            FftSetting::Inpatient => "Inpatient",
            FftSetting::Ae => "A&E",
            FftSetting::Maternity => "Maternity",
            FftSetting::Outpatient => "Outpatient",
            FftSetting::MentalHealth => "Mental health",
            FftSetting::Community => "Community",
            FftSetting::Ambulance => "Ambulance",
            FftSetting::Gp => "GP practice",
            FftSetting::Dental => "Dental practice",
        }
    }

    /// The setting an FFT instrument variant was written for (`None`: the general FFT, whose
    /// setting only the service can tell).
    pub fn of_instrument(instrument: &str) -> Option<FftSetting> {
        Some(match instrument {
            "fft-ae" => FftSetting::Ae,
            "fft-inpatient" => FftSetting::Inpatient,
            "fft-outpatient" => FftSetting::Outpatient,
            "fft-gp" => FftSetting::Gp,
            "fft-maternity" => FftSetting::Maternity,
            "fft-mental-health" => FftSetting::MentalHealth,
            "fft-community" => FftSetting::Community,
            _ => return None,
        })
    }

    /// Is this setting returned ward by ward, each ward with its specialty? (Inpatients only:
    /// the other settings are returned per site.)
    pub fn by_ward(self) -> bool {
        self == FftSetting::Inpatient
    }
}

impl fmt::Display for FftSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One service of a site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The `service` attribute of the embed, and the `{service}` of `/f/{site}/{service}`.
    pub id: String,
    /// A name for staff (the id when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The FFT setting it is returned under. Without one, a response's setting is its
    /// instrument's (`fft-ae` → A&E), and the general `fft` is returned as "Other".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<FftSetting>,
    /// The trust's code for the ward (inpatients), as in its FFT return.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ward_code: String,
    /// The ward's specialty: the NHS Data Dictionary treatment function code, three digits
    /// (`300` general medicine, `501` obstetrics).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub specialty_code: String,
}

impl From<&str> for Service {
    fn from(id: &str) -> Service {
        Service::id_only(id)
    }
}

impl From<String> for Service {
    fn from(id: String) -> Service {
        Service::id_only(&id)
    }
}

impl Service {
    /// A service known by its id alone.
    pub fn id_only(id: &str) -> Service {
        Service {
            id: id.to_string(),
            name: String::new(),
            setting: None,
            ward_code: String::new(),
            specialty_code: String::new(),
        }
    }

    /// The name for staff: the name, or the id.
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Mistakes in one service, as `(field, message)`: the same checks for the file and for
    /// the dashboard form.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !valid_id(&self.id) {
            out.push((
                "id",
                format!(
                    "Service id \"{}\" must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
                    self.id
                ),
            ));
        }
        if self.name.chars().count() > 100 || self.name.chars().any(char::is_control) {
            out.push((
                "name",
                "Service name must be at most 100 characters, on one line".into(),
            ));
        }
        if !self.ward_code.is_empty() && !valid_ward_code(&self.ward_code) {
            out.push((
                "ward_code",
                format!(
                    "Ward code \"{}\" must be 1 to 20 letters, digits, '-' or '_'",
                    self.ward_code
                ),
            ));
        }
        if !self.specialty_code.is_empty() && !valid_specialty_code(&self.specialty_code) {
            out.push((
                "specialty_code",
                format!(
                    "Specialty code \"{}\" must be a treatment function code: three digits, such as 300",
                    self.specialty_code
                ),
            ));
        }
        let by_ward = self.setting.is_some_and(FftSetting::by_ward);
        let has_codes = !self.ward_code.is_empty() || !self.specialty_code.is_empty();
        if !by_ward && has_codes {
            out.push((
                "setting",
                "Ward and specialty codes are returned for inpatient services only: choose the inpatient setting or leave the codes empty".into(),
            ));
        }
        if by_ward && (self.ward_code.is_empty() || self.specialty_code.is_empty()) {
            out.push((
                "ward_code",
                "An inpatient service is returned by ward and specialty: give both its ward code and its specialty code".into(),
            ));
        }
        out
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn valid_ward_code(s: &str) -> bool {
    (1..=20).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

fn valid_specialty_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Check a site's whole list: each service, and no id twice. Messages name the service.
pub fn check_list(services: &[Service]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for s in services {
        if let Some((_, m)) = s.problems().into_iter().next() {
            return Err(format!("service \"{}\": {m}", s.id));
        }
        if !seen.insert(s.id.as_str()) {
            return Err(format!("service \"{}\" is listed twice", s.id));
        }
    }
    Ok(())
}

/// A service in the TOML: its id alone, or a table.
impl<'de> Deserialize<'de> for ServiceEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ServiceEntry, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ServiceEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a service id (\"ward-3\") or a table ({ id = \"ward-3\", setting = \"inpatient\", … })")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ServiceEntry, E> {
                Ok(ServiceEntry(Service::id_only(v)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ServiceEntry, A::Error> {
                Service::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ServiceEntry)
            }
        }
        d.deserialize_any(V)
    }
}

/// [`Service`] as the TOML writes it (string or table).
#[derive(Clone, Debug)]
pub struct ServiceEntry(pub Service);

/// `services = [...]`: a list of [`ServiceEntry`].
pub fn deserialize_services<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Service>, D::Error> {
    let entries: Vec<ServiceEntry> = Vec::deserialize(d)?;
    Ok(entries.into_iter().map(|e| e.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(deserialize_with = "deserialize_services")]
        services: Vec<Service>,
    }

    fn parse(toml_text: &str) -> Result<Vec<Service>, String> {
        toml::from_str::<Doc>(toml_text)
            .map(|d| d.services)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_service_is_an_id_or_a_table() {
        let s = parse(
            r#"services = ["ward-3", { id = "w12", name = "Ward 12", setting = "inpatient", ward_code = "W12", specialty_code = "300" }, { id = "ed", setting = "ae" }]"#,
        )
        .unwrap();
        assert_eq!(s[0], Service::id_only("ward-3"));
        assert_eq!(s[1].setting, Some(FftSetting::Inpatient));
        assert_eq!(
            (s[1].ward_code.as_str(), s[1].specialty_code.as_str()),
            ("W12", "300")
        );
        assert_eq!(s[1].display_name(), "Ward 12");
        assert_eq!(s[2].setting, Some(FftSetting::Ae));
        check_list(&s).unwrap();
    }

    #[test]
    fn bad_services_are_named() {
        let e = parse(r#"services = [{ id = "a", setting = "hospice" }]"#).unwrap_err();
        assert!(e.contains("hospice") && e.contains("inpatient"), "{e}");
        let e = parse(r#"services = [{ id = "a", colour = "red" }]"#).unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = parse("services = [3]").unwrap_err();
        assert!(e.contains("a service id"), "{e}");
        let bad = |s: Service| check_list(&[s]).unwrap_err();
        let mut w = Service::id_only("w");
        w.setting = Some(FftSetting::Inpatient);
        w.ward_code = "W1".into();
        w.specialty_code = "30".into();
        assert!(bad(w.clone()).contains("three digits"));
        w.specialty_code = String::new();
        assert!(bad(w.clone()).contains("both"));
        w.specialty_code = "300".into();
        w.ward_code = "W 1".into();
        assert!(bad(w.clone()).contains("Ward code"));
        w.ward_code = "W1".into();
        check_list(&[w.clone()]).unwrap();
        w.setting = Some(FftSetting::Ae);
        assert!(bad(w.clone()).contains("inpatient services only"));
        assert!(bad(Service::id_only("-x")).contains("starting with"));
        let twice = check_list(&[Service::id_only("a"), Service::id_only("a")]).unwrap_err();
        assert!(twice.contains("twice"));
    }

    #[test]
    fn setting_codes_round_trip() {
        for s in FftSetting::ALL {
            assert_eq!(FftSetting::from_code(s.code()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
        }
        assert_eq!(FftSetting::from_code("A&E"), None);
    }
}

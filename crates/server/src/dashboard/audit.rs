//! The audit log lives at the crate's top (`crate::audit`: retention writes it too); this name
//! is kept for the dashboard's modules. Its page is `audit_page`.

pub use crate::audit::*;

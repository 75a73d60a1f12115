//! Secret strings: zeroized when dropped, never shown by `Debug` or `Display`.
//!
//! The `zeroize` crate does the wiping; this wrapper only adds the redaction, so that a
//! `{:?}` anywhere in the engine (a log line, a panic message) cannot print a secret.

use std::fmt;

use zeroize::Zeroizing;

/// A secret (secret access key, session token).
///
/// ```
/// use freshcreds::SecretString;
/// let s = SecretString::new("wJalrXUtnFEMI".to_owned());
/// assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
/// assert_eq!(s.expose(), "wJalrXUtnFEMI");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a secret; the `String`'s buffer is wiped when this value drops.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The secret itself, for the few places that must hand it on (JSON output, JNI).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An access key id shortened for logs: the first four and last four characters.
pub fn abbreviate_key_id(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = SecretString::new("topsecret".into());
        assert!(!format!("{s:?}").contains("topsecret"));
        assert!(!format!("{s}").contains("topsecret"));
    }

    #[test]
    fn key_id_abbreviation_hides_the_middle() {
        assert_eq!(abbreviate_key_id("ASIAIOSFODNN7EXAMPLE"), "ASIA…MPLE");
        assert_eq!(abbreviate_key_id("short"), "*****");
    }
}

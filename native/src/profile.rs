//! Reading one profile's settings from the shared AWS config file (`~/.aws/config`).
//!
//! Only the flat `key = value` settings the IMDS client needs are read here; `rust-ini` does
//! the parsing. The file and profile are chosen as the AWS SDKs choose them:
//! `AWS_CONFIG_FILE` (else `~/.aws/config`), `AWS_PROFILE` or the `aws.profile` system
//! property (else `default`), section `[default]` or `[profile NAME]`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};

/// The settings of the selected profile, with where they came from.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The config file read.
    pub file: PathBuf,
    /// The profile name.
    pub name: String,
    /// Its keys, lower-cased, and values.
    pub values: HashMap<String, String>,
}

impl Profile {
    /// Loads profile `name` from `file`. A missing file or profile gives an empty profile:
    /// the SDKs treat both as "nothing configured". A file that cannot be parsed is also
    /// treated as empty, with a warning naming it.
    pub fn load(file: &Path, name: &str) -> Profile {
        let mut profile = Profile {
            file: file.to_path_buf(),
            name: name.to_owned(),
            values: HashMap::new(),
        };
        if !file.exists() {
            return profile;
        }
        let opts = ParseOption {
            enabled_quote: false,
            enabled_escape: false,
            ..ParseOption::default()
        };
        let ini = match Ini::load_from_file_opt(file, opts) {
            Ok(ini) => ini,
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot parse the AWS config file; ignoring it");
                return profile;
            }
        };
        let wanted = [format!("profile {name}"), name.to_owned()];
        for (section, props) in ini.iter() {
            let Some(section) = section else { continue };
            let section = section.trim();
            // `[NAME]` without the `profile ` prefix is only valid for `default` in the config file.
            let matches = section == wanted[0] || (name == "default" && section == wanted[1]);
            if !matches {
                continue;
            }
            for (k, v) in props.iter() {
                profile
                    .values
                    .insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        profile
    }

    /// The value of `key`, if the profile sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_and_default_profiles() {
        let dir = std::env::temp_dir().join(format!("freshcreds-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config");
        std::fs::write(
            &file,
            "[default]\nec2_metadata_service_endpoint_mode = IPv6\n\n[profile prod]\nmetadata_service_timeout = 3\n",
        )
        .unwrap();
        assert_eq!(
            Profile::load(&file, "default").get("ec2_metadata_service_endpoint_mode"),
            Some("IPv6")
        );
        assert_eq!(
            Profile::load(&file, "prod").get("metadata_service_timeout"),
            Some("3")
        );
        assert_eq!(Profile::load(&file, "absent").values.len(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

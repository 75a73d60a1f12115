//! `profile.static-session-token` and `profile.role-chain`: the shared AWS files.
//!
//! Both files are read as the AWS CLI reads them: `~/.aws/credentials`
//! (`AWS_SHARED_CREDENTIALS_FILE`) with `[NAME]` sections, and `~/.aws/config`
//! (`AWS_CONFIG_FILE`) with `[default]` and `[profile NAME]` (other sections, such as
//! `[sso-session …]` and `[services …]`, are not profiles). A profile's keys are the union of
//! both files, the credentials file winning, as in botocore. The profile in use is
//! `AWS_PROFILE` (else `AWS_DEFAULT_PROFILE`, else `default`): trouble there fails the check,
//! trouble in other profiles only warns.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ini::{Ini, ParseOption};

use super::{Check, Ctx};

/// Id of the static session token check.
pub(crate) const STATIC_TOKEN_ID: &str = "profile.static-session-token";
/// Id of the role chain check.
pub(crate) const ROLE_CHAIN_ID: &str = "profile.role-chain";

/// `credential_source` values the SDKs accept.
const CREDENTIAL_SOURCES: [&str; 3] = ["Environment", "Ec2InstanceMetadata", "EcsContainer"];

/// One key's value and the file it came from.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub(crate) value: String,
    pub(crate) file: PathBuf,
}

/// One profile: its keys (lower-cased) from both files.
#[derive(Debug, Clone, Default)]
pub(crate) struct Profile {
    pub(crate) keys: HashMap<String, Value>,
}

impl Profile {
    /// A non-empty value.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .get(key)
            .map(|v| v.value.as_str())
            .filter(|v| !v.is_empty())
    }

    fn file_of(&self, key: &str) -> Option<&Path> {
        self.keys.get(key).map(|v| v.file.as_path())
    }

    fn has_static_keys(&self) -> bool {
        self.get("aws_access_key_id").is_some() && self.get("aws_secret_access_key").is_some()
    }

    /// A way to get credentials other than static keys and `role_arn`.
    fn other_provider(&self) -> Option<&'static str> {
        [
            ("credential_process", "credential_process"),
            ("sso_session", "SSO (sso_session)"),
            ("sso_start_url", "SSO (sso_start_url)"),
            (
                "web_identity_token_file",
                "web identity (web_identity_token_file)",
            ),
        ]
        .into_iter()
        .find(|(k, _)| self.get(k).is_some())
        .map(|(_, what)| what)
    }

    /// How this profile gets credentials, in words, when it is not static keys.
    pub(crate) fn provider(&self) -> Option<&'static str> {
        if self.get("role_arn").is_some() {
            return Some("role_arn (assume role)");
        }
        self.other_provider()
    }
}

/// Both shared files, parsed.
#[derive(Debug, Default)]
pub(crate) struct SharedFiles {
    /// Profiles by name, sorted for stable output.
    pub(crate) profiles: BTreeMap<String, Profile>,
    /// The profile in use.
    pub(crate) active: String,
    /// Files that exist but could not be parsed, with why.
    pub(crate) unreadable: Vec<String>,
    /// The files looked at.
    pub(crate) files: Vec<PathBuf>,
}

impl SharedFiles {
    /// Reads the files `ctx`'s environment and home point at.
    pub(crate) fn load(ctx: &Ctx) -> SharedFiles {
        let active = ctx
            .var("AWS_PROFILE")
            .or_else(|| ctx.var("AWS_DEFAULT_PROFILE"))
            .unwrap_or("default")
            .to_owned();
        let mut shared = SharedFiles {
            active,
            ..SharedFiles::default()
        };
        // Config first, credentials second: the credentials file wins for the same key.
        if let Some(config) = ctx.file_from_env("AWS_CONFIG_FILE", ".aws/config") {
            shared.read(&config, true);
        }
        if let Some(creds) = ctx.file_from_env("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials") {
            shared.read(&creds, false);
        }
        shared
    }

    fn read(&mut self, file: &Path, is_config: bool) {
        self.files.push(file.to_path_buf());
        if !file.exists() {
            return;
        }
        let opts = ParseOption {
            enabled_quote: false,
            enabled_escape: false,
            ..ParseOption::default()
        };
        let ini = match Ini::load_from_file_opt(file, opts) {
            Ok(ini) => ini,
            Err(e) => {
                self.unreadable.push(format!("{}: {e}", file.display()));
                return;
            }
        };
        for (section, props) in ini.iter() {
            let Some(section) = section.map(str::trim) else {
                continue;
            };
            let name = if is_config {
                match section.strip_prefix("profile ") {
                    Some(n) => n.trim(),
                    None if section == "default" => "default",
                    None => continue,
                }
            } else {
                section
            };
            let profile = self.profiles.entry(name.to_owned()).or_default();
            for (k, v) in props.iter() {
                profile.keys.insert(
                    k.trim().to_ascii_lowercase(),
                    Value {
                        value: v.trim().to_owned(),
                        file: file.to_path_buf(),
                    },
                );
            }
        }
    }

    /// The profile in use, if either file defines it.
    pub(crate) fn active_profile(&self) -> Option<&Profile> {
        self.profiles.get(&self.active)
    }

    /// Whether `profile`'s credentials go through `start` (the profile in use): the active
    /// profile itself, or a profile its chain of `source_profile`s reaches.
    fn used_by_active(&self, profile: &str) -> bool {
        let mut seen = Vec::new();
        let mut current = self.active.as_str();
        loop {
            if current == profile {
                return true;
            }
            if seen.contains(&current) {
                return false;
            }
            seen.push(current);
            match self
                .profiles
                .get(current)
                .and_then(|p| p.get("source_profile"))
            {
                Some(next) => current = next,
                None => return false,
            }
        }
    }
}

pub(crate) async fn run(ctx: Arc<Ctx>) {
    let files = SharedFiles::load(&ctx);
    ctx.sink.put(static_session_tokens(&files));
    ctx.sink.put(role_chains(&files));
}

fn static_session_tokens(files: &SharedFiles) -> Check {
    let mut active = Vec::new();
    let mut other = Vec::new();
    for (name, profile) in &files.profiles {
        let key = ["aws_session_token", "aws_security_token"]
            .into_iter()
            .find(|k| profile.get(k).is_some());
        let Some(key) = key else { continue };
        let file = profile
            .file_of(key)
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        let entry = format!("{name} ({file})");
        if files.used_by_active(name) {
            active.push(entry);
        } else {
            other.push(entry);
        }
    }
    let unreadable = unreadable_note(files);
    if active.is_empty() && other.is_empty() {
        return Check::pass(
            STATIC_TOKEN_ID,
            format!(
                "no profile holds a static aws_session_token ({}){unreadable}",
                describe_files(files)
            ),
        );
    }
    let example = active
        .first()
        .or(other.first())
        .map_or("NAME", |e| e.split(' ').next().unwrap_or("NAME"));
    let fix = format!(
        "replace the pasted keys and token with a profile that assumes a role and refreshes itself, e.g. in ~/.aws/config:\n\
         [profile {example}]\n\
         role_arn = arn:aws:iam::<account-id>:role/<role-name>\n\
         source_profile = <a profile with long-term keys>\n\
         (on EC2, credential_source = Ec2InstanceMetadata instead of source_profile); then delete aws_session_token from that profile"
    );
    let mut parts = Vec::new();
    if !active.is_empty() {
        parts.push(format!(
            "profile in use ({}) holds a static aws_session_token: {}",
            files.active,
            active.join(", ")
        ));
    }
    if !other.is_empty() {
        parts.push(format!(
            "other profiles hold a static aws_session_token: {}",
            other.join(", ")
        ));
    }
    let summary = format!(
        "{}; it never refreshes and ends in ExpiredToken{unreadable}",
        parts.join("; ")
    );
    if active.is_empty() {
        Check::warn(STATIC_TOKEN_ID, summary, fix)
    } else {
        Check::fail(STATIC_TOKEN_ID, summary, fix)
    }
}

/// What is wrong with `name`'s role chain, if anything.
fn chain_problem(files: &SharedFiles, name: &str) -> Option<String> {
    let mut path = vec![name.to_owned()];
    let mut current = name.to_owned();
    loop {
        let Some(profile) = files.profiles.get(&current) else {
            let from = path
                .get(path.len().saturating_sub(2))
                .cloned()
                .unwrap_or_default();
            return Some(format!(
                "source_profile of {from} names {current}, which no file defines"
            ));
        };
        if profile.get("role_arn").is_none() {
            // The end of the chain must hold credentials of its own.
            if profile.has_static_keys() || profile.other_provider().is_some() {
                return None;
            }
            return Some(format!(
                "source profile {current} has no credentials (no aws_access_key_id, credential_process or SSO)"
            ));
        }
        let source = profile.get("source_profile");
        let credential_source = profile.get("credential_source");
        match (source, credential_source) {
            (Some(_), Some(_)) => {
                return Some(format!(
                    "{current} sets both source_profile and credential_source; the SDKs refuse that"
                ))
            }
            (None, Some(cs)) => {
                if CREDENTIAL_SOURCES.contains(&cs) {
                    return None;
                }
                return Some(format!(
                    "{current} has credential_source = {cs}; expected one of {}",
                    CREDENTIAL_SOURCES.join(", ")
                ));
            }
            (None, None) => {
                if profile.get("web_identity_token_file").is_some() {
                    return None;
                }
                return Some(format!(
                    "{current} has role_arn but neither source_profile nor credential_source"
                ));
            }
            (Some(next), None) => {
                // A profile may name itself when it holds the long-term keys (botocore allows it).
                if next == current && profile.has_static_keys() {
                    return None;
                }
                if path.iter().any(|p| p == next) {
                    path.push(next.to_owned());
                    return Some(format!("circular source_profile: {}", path.join(" -> ")));
                }
                path.push(next.to_owned());
                current = next.to_owned();
            }
        }
    }
}

fn role_chains(files: &SharedFiles) -> Check {
    let roles: Vec<&String> = files
        .profiles
        .iter()
        .filter(|(_, p)| p.get("role_arn").is_some())
        .map(|(n, _)| n)
        .collect();
    let unreadable = unreadable_note(files);
    if roles.is_empty() {
        return Check::pass(
            ROLE_CHAIN_ID,
            format!(
                "no profile assumes a role ({}){unreadable}",
                describe_files(files)
            ),
        );
    }
    let mut broken_active = Vec::new();
    let mut broken_other = Vec::new();
    for name in &roles {
        if let Some(problem) = chain_problem(files, name) {
            let entry = format!("profile {name}: {problem}");
            if files.used_by_active(name) {
                broken_active.push(entry);
            } else {
                broken_other.push(entry);
            }
        }
    }
    if broken_active.is_empty() && broken_other.is_empty() {
        let names: Vec<&str> = roles.iter().map(|s| s.as_str()).collect();
        return Check::pass(
            ROLE_CHAIN_ID,
            format!(
                "every role profile has a usable source: {}{unreadable}",
                names.join(", ")
            ),
        );
    }
    let fix = "give each role profile exactly one source, ending at a profile with credentials:\n\
               source_profile = <profile with long-term keys>   (not forming a loop)\n\
               or credential_source = Ec2InstanceMetadata | EcsContainer | Environment";
    let all: Vec<String> = broken_active
        .iter()
        .chain(broken_other.iter())
        .cloned()
        .collect();
    let summary = format!(
        "{}{}{unreadable}",
        all.join("; "),
        if broken_active.is_empty() {
            format!(" (not the profile in use, {})", files.active)
        } else {
            String::new()
        }
    );
    if broken_active.is_empty() {
        Check::warn(ROLE_CHAIN_ID, summary, fix)
    } else {
        Check::fail(ROLE_CHAIN_ID, summary, fix)
    }
}

fn describe_files(files: &SharedFiles) -> String {
    let existing: Vec<String> = files
        .files
        .iter()
        .filter(|f| f.exists())
        .map(|f| f.display().to_string())
        .collect();
    if existing.is_empty() {
        "no shared config or credentials file".into()
    } else {
        format!("read {}", existing.join(" and "))
    }
}

fn unreadable_note(files: &SharedFiles) -> String {
    if files.unreadable.is_empty() {
        String::new()
    } else {
        format!("; could not parse {}", files.unreadable.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(profiles: &[(&str, &[(&str, &str)])], active: &str) -> SharedFiles {
        let mut f = SharedFiles {
            active: active.into(),
            ..SharedFiles::default()
        };
        for (name, keys) in profiles {
            let p = f.profiles.entry((*name).into()).or_default();
            for (k, v) in *keys {
                p.keys.insert(
                    (*k).into(),
                    Value {
                        value: (*v).into(),
                        file: "/x/config".into(),
                    },
                );
            }
        }
        f
    }

    #[test]
    fn chains() {
        let keys: &[(&str, &str)] = &[
            ("aws_access_key_id", "AKIA"),
            ("aws_secret_access_key", "s"),
        ];
        let f = files(
            &[
                ("base", keys),
                ("ok", &[("role_arn", "arn"), ("source_profile", "base")]),
                (
                    "ec2",
                    &[
                        ("role_arn", "arn"),
                        ("credential_source", "Ec2InstanceMetadata"),
                    ],
                ),
                (
                    "bad-cs",
                    &[("role_arn", "arn"), ("credential_source", "Ec2")],
                ),
                (
                    "loop-a",
                    &[("role_arn", "arn"), ("source_profile", "loop-b")],
                ),
                (
                    "loop-b",
                    &[("role_arn", "arn"), ("source_profile", "loop-a")],
                ),
                (
                    "missing",
                    &[("role_arn", "arn"), ("source_profile", "nowhere")],
                ),
                ("none", &[("role_arn", "arn")]),
                (
                    "self",
                    &[
                        ("role_arn", "arn"),
                        ("source_profile", "self"),
                        ("aws_access_key_id", "A"),
                        ("aws_secret_access_key", "s"),
                    ],
                ),
            ],
            "ok",
        );
        assert_eq!(chain_problem(&f, "ok"), None);
        assert_eq!(chain_problem(&f, "ec2"), None);
        assert_eq!(chain_problem(&f, "self"), None);
        assert!(chain_problem(&f, "bad-cs")
            .unwrap()
            .contains("credential_source = Ec2"));
        assert_eq!(
            chain_problem(&f, "loop-a").unwrap(),
            "circular source_profile: loop-a -> loop-b -> loop-a"
        );
        assert!(chain_problem(&f, "missing").unwrap().contains("nowhere"));
        assert!(chain_problem(&f, "none").unwrap().contains("neither"));
        assert!(f.used_by_active("base"));
        assert!(!f.used_by_active("loop-a"));
    }
}

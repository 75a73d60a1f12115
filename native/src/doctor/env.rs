//! `env.credentials`: AWS credentials in the environment.
//!
//! They come first in every SDK's chain, so they shadow the instance profile; a session
//! token among them was issued once and never refreshes, so it ends in `ExpiredToken`.

use std::sync::Arc;

use super::{Check, Ctx};
use crate::secret::abbreviate_key_id;

/// The check's id.
pub(crate) const ID: &str = "env.credentials";

/// Every variable the SDKs read credentials from (`AWS_SECURITY_TOKEN` is the old name of
/// the session token, still honoured by botocore).
const VARS: [&str; 4] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
];

pub(crate) async fn run(ctx: Arc<Ctx>) {
    ctx.sink.put(check(&ctx));
}

fn check(ctx: &Ctx) -> Check {
    let set: Vec<&str> = VARS.into_iter().filter(|v| ctx.var(v).is_some()).collect();
    if set.is_empty() {
        return Check::pass(ID, "no AWS credentials in the environment");
    }
    let key = ctx
        .var("AWS_ACCESS_KEY_ID")
        .map(|k| format!(" (key {})", abbreviate_key_id(k)))
        .unwrap_or_default();
    let fix = format!(
        "unset {}   # and remove them where the service's environment is defined (systemd Environment=, /etc/environment, the container definition), so the instance profile is used",
        set.join(" ")
    );
    let token = set
        .iter()
        .find(|v| **v == "AWS_SESSION_TOKEN" || **v == "AWS_SECURITY_TOKEN");
    match token {
        Some(var) => Check::fail(
            ID,
            format!(
                "{var} is set{key}: temporary credentials in the environment never refresh and fail with ExpiredToken when they end; they also shadow the instance profile"
            ),
            fix,
        ),
        None => Check::warn(
            ID,
            format!(
                "{} {} set{key}: they shadow the instance profile for the AWS CLI and SDKs",
                set.join(" and "),
                if set.len() == 1 { "is" } else { "are" }
            ),
            fix,
        ),
    }
}

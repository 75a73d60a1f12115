//! Assume-role on top of the instance profile, against real peers on 127.0.0.1: moto server
//! with authentication on (it checks signatures, session tokens and IAM policies) issuing
//! the instance-profile credentials that AEMM serves, and an in-test STS for what moto
//! cannot do (throttling, `ExpiredToken`, `RegionDisabledException`, counting calls).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_sts::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
use common::fake_imds::{Creds, FakeImds};
use common::{rig, wait_event, Aemm, LogCapture};
use freshcreds::internal::rfc3339;
use freshcreds::{abbreviate_key_id, Config, Engine, Error, Event, Inputs};

const ROLE_WAIT: Duration = Duration::from_secs(10);

// ===== moto =====

/// moto server with authentication on, and the roles the tests assume.
struct Moto {
    url: String,
    port: String,
    /// `app-role`: trusts any principal, allows everything.
    app_role: String,
}

impl Moto {
    fn get() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| {
            let m = common::MotoServer::start();
            let app_role = m.create_role("app-role", "all");
            // A role with no permissions at all: its sessions may not call sts:AssumeRole.
            m.create_role("limited-role", "none");
            Moto {
                url: m.url,
                port: m.port,
                app_role,
            }
        })
    }

    /// Temporary credentials for `role` (as rig-admin): what AEMM serves as the instance
    /// profile's.
    fn session(&self, role: &str, session: &str) -> Session {
        let v = rig(
            "moto.sh",
            &["assume-role", &self.port, "3600", session, role],
            &[],
        );
        Session {
            key: v["AWS_ACCESS_KEY_ID"].clone(),
            secret: v["AWS_SECRET_ACCESS_KEY"].clone(),
            token: v["AWS_SESSION_TOKEN"].clone(),
            expiration: v["AWS_CREDENTIAL_EXPIRATION"].clone(),
        }
    }

    /// The caller ARN moto sees for these credentials (GetCallerIdentity), or the error.
    fn caller(&self, key: &str, secret: &str, token: Option<&str>) -> Result<String, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let http = aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https();
            let conf = aws_sdk_sts::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .http_client(http)
                .region(Region::new("us-east-1"))
                .endpoint_url(&self.url)
                .credentials_provider(SdkCredentials::new(
                    key,
                    secret,
                    token.map(str::to_owned),
                    None,
                    "test",
                ))
                .build();
            aws_sdk_sts::Client::from_conf(conf)
                .get_caller_identity()
                .send()
                .await
                .map(|o| o.arn.unwrap_or_default())
                .map_err(|e| format!("{e:?}"))
        })
    }
}

struct Session {
    key: String,
    secret: String,
    token: String,
    expiration: String,
}

/// AEMM serving `session` as the instance profile's credentials.
fn aemm_serving(session: &Session) -> Aemm {
    let aemm = Aemm::start();
    serve(&aemm, session);
    aemm
}

fn serve(aemm: &Aemm, s: &Session) {
    aemm.rotate(
        &s.key,
        &s.secret,
        &s.token,
        &s.expiration,
        &rfc3339(SystemTime::now()),
    );
}

/// Engine settings: IMDS at `imds`, STS at `sts`, this role, NTP off.
fn config(imds: &str, sts: &str, role: &str, extra: &[(&str, &str)]) -> Config {
    let mut inputs = Inputs::empty();
    inputs.set("imds.endpoint", imds, "test");
    inputs.set("imds.timeout", "0.5", "test");
    inputs.set("imds.attempts", "2", "test");
    inputs.set("ntp.servers", "off", "test");
    inputs.set("role.arn", role, "test");
    inputs.set("sts.endpoint", sts, "test");
    for (k, v) in extra {
        inputs.set(k, *v, "test");
    }
    Config::resolve(&inputs).expect("test config")
}

fn start(config: Config) -> Engine {
    Engine::builder(config)
        .invalidate_cooldown(Duration::ZERO)
        .start()
        .expect("engine")
}

fn error_text(r: Result<Arc<freshcreds::Snapshot>, Error>) -> String {
    match r {
        Ok(s) => panic!("expected an error, got {:?}", s.credentials),
        Err(e) => e.to_string(),
    }
}

// ===== an in-test STS =====

/// What the in-test STS answers.
#[derive(Clone)]
enum StsReply {
    /// `AssumeRole` succeeds (credentials valid for the requested duration).
    Ok,
    /// An AWS error document with this status, code and message.
    Error(u16, &'static str, &'static str),
}

#[derive(Default)]
struct StsLog {
    /// Every request: (action, form parameters, region of the signature's scope).
    requests: Vec<(String, HashMap<String, String>, String)>,
    issued: u32,
}

/// An STS on loopback, stopped on drop.
struct FakeSts {
    url: String,
    reply: Arc<Mutex<StsReply>>,
    log: Arc<Mutex<StsLog>>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeSts {
    fn start(reply: StsReply) -> FakeSts {
        use axum::http::{HeaderMap, Response, StatusCode};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let reply = Arc::new(Mutex::new(reply));
        let log = Arc::new(Mutex::new(StsLog::default()));
        let (r, l) = (reply.clone(), log.clone());
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
            let (reply, log) = (r.clone(), l.clone());
            async move {
                let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
                    .into_owned()
                    .collect();
                // Credential=KEY/DATE/REGION/sts/aws4_request
                let region = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|a| a.split("Credential=").nth(1))
                    .and_then(|c| c.split('/').nth(2))
                    .unwrap_or("")
                    .to_owned();
                let action = form.get("Action").cloned().unwrap_or_default();
                let mut log = log.lock().unwrap();
                log.requests.push((action.clone(), form.clone(), region));
                let (status, body) = match (action.as_str(), reply.lock().unwrap().clone()) {
                    ("GetCallerIdentity", _) => (200, caller_identity()),
                    (_, StsReply::Ok) => {
                        log.issued += 1;
                        (200, assume_role_ok(log.issued, &form))
                    }
                    (_, StsReply::Error(status, code, message)) => {
                        (status, error_doc(code, message))
                    }
                };
                Response::builder()
                    .status(StatusCode::from_u16(status).unwrap())
                    .header("content-type", "text/xml")
                    .body(axum::body::Body::from(body))
                    .unwrap()
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSts {
            url: format!("http://{addr}"),
            reply,
            log,
            _runtime: runtime,
        }
    }

    fn set(&self, reply: StsReply) {
        *self.reply.lock().unwrap() = reply;
    }

    fn assume_role_calls(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(a, _, _)| a == "AssumeRole")
            .count()
    }

    fn last_assume_role(&self) -> (HashMap<String, String>, String) {
        let log = self.log.lock().unwrap();
        let (_, form, region) = log
            .requests
            .iter()
            .rev()
            .find(|(a, _, _)| a == "AssumeRole")
            .expect("an AssumeRole request")
            .clone();
        (form, region)
    }
}

fn assume_role_ok(n: u32, form: &HashMap<String, String>) -> String {
    let secs: u64 = form
        .get("DurationSeconds")
        .and_then(|d| d.parse().ok())
        .unwrap_or(3600);
    let expiration = rfc3339(SystemTime::now() + Duration::from_secs(secs));
    format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <Credentials><AccessKeyId>ASIAFAKESTS{n:09}</AccessKeyId>\
         <SecretAccessKey>fake-sts-secret-{n}-STSSECRET</SecretAccessKey>\
         <SessionToken>fake-sts-token-{n}-STSTOKEN</SessionToken>\
         <Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId>\
         <Arn>arn:aws:sts::123456789012:assumed-role/app/s</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )
}

fn caller_identity() -> String {
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
     <Arn>arn:aws:sts::123456789012:assumed-role/ec2-role/i-0123456789abcdef0</Arn>\
     <UserId>AROAFAKE:i-0123456789abcdef0</UserId><Account>123456789012</Account>\
     </GetCallerIdentityResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        .to_owned()
}

fn error_doc(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error><RequestId>3</RequestId></ErrorResponse>"
    )
}

const ROLE: &str = "arn:aws:iam::123456789012:role/app";

// ===== moto: the real thing =====

#[test]
fn assumes_a_role_with_the_instance_profile_credentials_moto_issued() {
    let moto = Moto::get();
    let imds = moto.session("rig-role", "instance");
    let aemm = aemm_serving(&imds);
    let engine = start(config(
        &aemm.url,
        &moto.url,
        &moto.app_role,
        &[("role.session_name", "app-prod"), ("role.duration", "15m")],
    ));
    let mut events = engine.subscribe();
    let snap = engine
        .credentials_blocking(ROLE_WAIT)
        .expect("role credentials");
    let c = &snap.credentials;
    assert!(c.access_key_id().starts_with("ASIA"));
    assert_ne!(
        c.access_key_id(),
        imds.key,
        "role credentials, not the instance's"
    );
    // Lifetime is the requested duration: 15-minute sessions are refreshed 5 minutes ahead.
    assert_eq!(c.lifetime(), Duration::from_secs(900));
    let left = c.time_left(SystemTime::now());
    assert!(
        left > Duration::from_secs(850) && left <= Duration::from_secs(900),
        "{left:?}"
    );
    let health = engine.health();
    assert!(
        health
            .source
            .contains("assume-role arn:aws:iam::123456789012:role/app-role (session app-prod)"),
        "{}",
        health.source
    );
    assert!(
        health.source.contains("instance profile (IMDS"),
        "{}",
        health.source
    );
    assert_eq!(health.imds_version.as_str(), "v2");
    // moto, authentication on, knows these as a session of app-role.
    let arn = moto
        .caller(
            c.access_key_id(),
            c.secret_access_key().expose(),
            c.session_token().map(|t| t.expose()),
        )
        .expect("moto accepts the role credentials");
    assert_eq!(
        arn,
        "arn:aws:sts::123456789012:assumed-role/app-role/app-prod"
    );
    let Event::Refreshed {
        next_refresh: next, ..
    } = wait_event(&mut events, ROLE_WAIT, |e| {
        matches!(e, Event::Refreshed { .. })
    })
    else {
        unreachable!()
    };
    let ahead = c.expiration().duration_since(next).unwrap_or_default();
    assert!(
        ahead >= Duration::from_secs(300) && ahead <= Duration::from_secs(331),
        "refreshed 5 min (+ jitter) ahead: {ahead:?}"
    );
}

#[test]
fn a_source_rotation_under_a_live_role_session_never_breaks_it() {
    let log = LogCapture::global();
    let moto = Moto::get();
    let first = moto.session("rig-role", "rotation-1");
    let aemm = aemm_serving(&first);
    let engine = start(config(&aemm.url, &moto.url, &moto.app_role, &[]));
    let mut events = engine.subscribe();
    let r1 = engine
        .credentials_blocking(ROLE_WAIT)
        .expect("first session");
    assert!(log
        .text()
        .contains(&format!("source_key={}", abbreviate_key_id(&first.key))));

    // The instance profile rotates underneath.
    let second = moto.session("rig-role", "rotation-2");
    serve(&aemm, &second);
    // The live role session is untouched: still published, still valid, still accepted.
    let still = engine.credentials_blocking(ROLE_WAIT).unwrap();
    assert_eq!(still.seq, r1.seq);
    assert_eq!(
        still.credentials.access_key_id(),
        r1.credentials.access_key_id()
    );
    let c = &still.credentials;
    moto.caller(
        c.access_key_id(),
        c.secret_access_key().expose(),
        c.session_token().map(|t| t.expose()),
    )
    .expect("the live session still works after the rotation");

    // The next refresh takes the new instance-profile credentials.
    engine.invalidate();
    wait_event(
        &mut events,
        ROLE_WAIT,
        |e| matches!(e, Event::Refreshed { seq, .. } if *seq == r1.seq + 1),
    );
    let r2 = engine.snapshot().unwrap();
    assert_ne!(
        r2.credentials.access_key_id(),
        r1.credentials.access_key_id()
    );
    assert!(
        log.text()
            .contains(&format!("source_key={}", abbreviate_key_id(&second.key))),
        "the refresh signed with the rotated source key"
    );
    let c = &r2.credentials;
    moto.caller(
        c.access_key_id(),
        c.secret_access_key().expose(),
        c.session_token().map(|t| t.expose()),
    )
    .expect("the new session works");
    // No secret of either source or session reached the log.
    let text = log.text();
    for s in [&first.secret, &first.token, &second.secret, &second.token] {
        assert!(!text.contains(s.as_str()), "a source secret was logged");
    }
    for snap in [&r1, &r2] {
        let c = &snap.credentials;
        assert!(!text.contains(c.secret_access_key().expose()));
        assert!(!text.contains(c.session_token().unwrap().expose()));
    }
}

#[test]
fn access_denied_names_the_role_and_the_caller() {
    let moto = Moto::get();
    // The instance profile's role has no permissions: moto refuses its AssumeRole.
    let limited = moto.session("limited-role", "denied");
    let aemm = aemm_serving(&limited);
    let engine = start(config(&aemm.url, &moto.url, &moto.app_role, &[]));
    let started = Instant::now();
    let text = error_text(engine.credentials_blocking(ROLE_WAIT));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "reported at once"
    );
    assert!(text.contains("AccessDenied"), "{text}");
    assert!(text.contains(&moto.app_role), "names the role: {text}");
    assert!(
        text.contains("arn:aws:sts::123456789012:assumed-role/limited-role/denied"),
        "names the caller: {text}"
    );
    assert!(text.contains(&abbreviate_key_id(&limited.key)), "{text}");
    assert!(text.contains("trust policy"), "says what to check: {text}");
    assert!(!text.contains(&limited.secret) && !text.contains(&limited.token));
    let health = engine.health();
    assert!(health.last_error.unwrap().contains("AccessDenied"));
}

#[test]
fn role_chaining_beyond_one_hour_is_refused_before_any_sts_call() {
    let sts = FakeSts::start(StsReply::Ok);
    let fake = FakeImds::start(Creds::numbered(1, Duration::from_secs(3600)));
    let err = Engine::builder(config(
        &fake.url,
        &sts.url,
        ROLE,
        &[("role.duration", "2h")],
    ))
    .start()
    .expect_err("refused at start");
    let text = err.to_string();
    assert!(matches!(err, Error::RoleChainingCap { .. }), "{err:?}");
    assert!(
        text.contains("role chaining") && text.contains("1h"),
        "{text}"
    );
    assert!(text.contains("role.duration 2h (from test)"), "{text}");
    assert!(err.is_unrecoverable());
    // Exactly one hour is allowed.
    let engine = start(config(
        &fake.url,
        &sts.url,
        ROLE,
        &[("role.duration", "1h")],
    ));
    engine.credentials_blocking(ROLE_WAIT).expect("1h is fine");
    assert_eq!(sts.assume_role_calls(), 1);

    // The CLI says the same and exits before touching STS.
    let out = Command::new(env!("CARGO_BIN_EXE_freshcreds"))
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL_STS", &sts.url)
        .args([
            "--imds-endpoint",
            &fake.url,
            "--ntp-server",
            "off",
            "credentials",
        ])
        .args(["--role-arn", ROLE, "--duration", "90m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("role chaining") && stderr.contains("--duration"),
        "{stderr}"
    );
    assert_eq!(
        sts.assume_role_calls(),
        1,
        "no STS call for the refused duration"
    );
}

// ===== the in-test STS: what moto cannot do =====

#[test]
fn sends_the_settings_and_signs_for_the_instances_region() {
    let sts = FakeSts::start(StsReply::Ok);
    // AEMM tells the instance's region (placement/region: us-east-1).
    let aemm = Aemm::start();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let engine = start(config(
        &aemm.url,
        &sts.url,
        ROLE,
        &[
            ("role.session_name", "batch-7"),
            ("role.duration", "20m"),
            ("role.external_id", "ext-123"),
            ("role.session_policy", policy),
        ],
    ));
    let snap = engine.credentials_blocking(ROLE_WAIT).unwrap();
    assert_eq!(snap.credentials.lifetime(), Duration::from_secs(1200));
    let (form, region) = sts.last_assume_role();
    assert_eq!(form["RoleArn"], ROLE);
    assert_eq!(form["RoleSessionName"], "batch-7");
    assert_eq!(form["DurationSeconds"], "1200");
    assert_eq!(form["ExternalId"], "ext-123");
    assert_eq!(form["Policy"], policy);
    assert_eq!(region, "us-east-1", "region from IMDS placement");

    // A configured region wins, and is the one signed for.
    let engine = start(config(
        &aemm.url,
        &sts.url,
        ROLE,
        &[("sts.region", "eu-west-3")],
    ));
    engine.credentials_blocking(ROLE_WAIT).unwrap();
    let (form, region) = sts.last_assume_role();
    assert_eq!(region, "eu-west-3");
    assert!(
        form["RoleSessionName"].starts_with("freshcreds-"),
        "{form:?}"
    );
    assert!(!form.contains_key("ExternalId") && !form.contains_key("Policy"));
}

#[test]
fn throttling_keeps_the_current_session_and_backs_off() {
    let sts = FakeSts::start(StsReply::Ok);
    let fake = FakeImds::start(Creds::numbered(1, Duration::from_secs(3600)));
    let engine = start(config(&fake.url, &sts.url, ROLE, &[]));
    let mut events = engine.subscribe();
    let first = engine.credentials_blocking(ROLE_WAIT).unwrap();

    sts.set(StsReply::Error(400, "Throttling", "Rate exceeded"));
    let before = sts.assume_role_calls();
    engine.invalidate();
    let failed = wait_event(&mut events, ROLE_WAIT, |e| {
        matches!(e, Event::RefreshFailed { .. })
    });
    let Event::RefreshFailed {
        error,
        serving_until,
        ..
    } = failed
    else {
        unreachable!()
    };
    assert!(
        error.contains("throttled") && error.contains("Throttling"),
        "{error}"
    );
    assert!(error.contains("keeping the current session"), "{error}");
    assert_eq!(serving_until, Some(first.credentials.expiration()));
    // The current session stays published and is handed out.
    let served = engine.credentials_blocking(ROLE_WAIT).unwrap();
    assert_eq!(served.seq, first.seq);
    // Backoff: a few attempts over three seconds, not a storm.
    std::thread::sleep(Duration::from_secs(3));
    let attempts = sts.assume_role_calls() - before;
    assert!((1..=6).contains(&attempts), "{attempts} attempts in 3 s");

    // Throttling ends: the next retry gets a new session.
    sts.set(StsReply::Ok);
    wait_event(
        &mut events,
        Duration::from_secs(70),
        |e| matches!(e, Event::Refreshed { seq, .. } if *seq == first.seq + 1),
    );
}

#[test]
fn expired_source_and_disabled_region_are_named() {
    let fake = FakeImds::start(Creds::numbered(4, Duration::from_secs(3600)));

    let sts = FakeSts::start(StsReply::Error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    ));
    let engine = start(config(&fake.url, &sts.url, ROLE, &[]));
    let text = error_text(engine.credentials_blocking(ROLE_WAIT));
    assert!(text.contains("ExpiredToken"), "{text}");
    assert!(
        text.contains("source credentials (key ASIA…0004 from instance profile"),
        "{text}"
    );
    assert!(text.contains("fresh source credentials"), "{text}");

    let sts = FakeSts::start(StsReply::Error(
        403,
        "RegionDisabledException",
        "STS is not activated in this region for account:123456789012.",
    ));
    let engine = start(config(
        &fake.url,
        &sts.url,
        ROLE,
        &[("sts.region", "ap-east-1")],
    ));
    let text = error_text(engine.credentials_blocking(ROLE_WAIT));
    assert!(text.contains("RegionDisabledException"), "{text}");
    assert!(text.contains("region ap-east-1"), "{text}");
    assert!(text.contains("activate it"), "{text}");

    // AccessDenied without the caller in the message: GetCallerIdentity names it.
    let sts = FakeSts::start(StsReply::Error(403, "AccessDenied", "Not authorized"));
    let engine = start(config(&fake.url, &sts.url, ROLE, &[]));
    let text = error_text(engine.credentials_blocking(ROLE_WAIT));
    assert!(
        text.contains(
            "arn:aws:sts::123456789012:assumed-role/ec2-role/i-0123456789abcdef0 (key ASIA…0004"
        ),
        "{text}"
    );
    assert!(text.contains(ROLE), "{text}");
}

#[test]
fn freshcreds_config_lists_the_role_settings_with_their_origins() {
    let out = Command::new(env!("CARGO_BIN_EXE_freshcreds"))
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .env("FRESHCREDS_EXTERNAL_ID", "ext-9")
        .env("AWS_REGION", "eu-north-1")
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4566")
        .args([
            "config",
            "--json",
            "--role-arn",
            ROLE,
            "--duration",
            "45m",
            "--source",
            "chain",
        ])
        .args(["--role-session-name", "cli-session"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |name: &str| {
        let s = json["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        (
            s["value"].as_str().unwrap().to_owned(),
            s["source"].as_str().unwrap().to_owned(),
        )
    };
    let pair = |v: &str, s: &str| (v.to_owned(), s.to_owned());
    assert_eq!(get("role.arn"), pair(ROLE, "--role-arn"));
    assert_eq!(
        get("role.session_name"),
        pair("cli-session", "--role-session-name")
    );
    assert_eq!(get("role.duration"), pair("45m", "--duration"));
    assert_eq!(
        get("role.external_id"),
        pair("ext-9", "env FRESHCREDS_EXTERNAL_ID")
    );
    assert_eq!(get("role.session_policy"), pair("none", "default"));
    assert_eq!(get("source"), pair("chain", "--source"));
    assert_eq!(get("sts.region"), pair("eu-north-1", "env AWS_REGION"));
    assert_eq!(
        get("sts.endpoint"),
        pair("http://127.0.0.1:4566", "env AWS_ENDPOINT_URL_STS")
    );
}

//! The `freshcreds` command: `credentials` (a `credential_process`), `watch`, `doctor`,
//! `config`.
//!
//! Only argument parsing and printing live here; the work is the engine's.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use freshcreds::internal::rfc3339;
use freshcreds::{doctor, Config, Engine, Error, Event, Inputs, Origin, SourceKind};
use serde::Serialize;

/// Keeps AWS credentials fresh: instance-profile credentials with backoff, refreshed ahead
/// of expiry on an NTP-corrected clock.
#[derive(Parser, Debug)]
#[command(name = "freshcreds", version, about)]
struct Cli {
    #[command(flatten)]
    settings: SettingFlags,
    #[command(subcommand)]
    command: Command,
}

/// Overrides, like the SDKs' programmatic settings: they win over system properties,
/// environment variables and profiles.
#[derive(Args, Debug, Default)]
struct SettingFlags {
    /// IMDS base URL (default http://169.254.169.254).
    #[arg(long, global = true, value_name = "URL")]
    imds_endpoint: Option<String>,
    /// IMDS endpoint mode: IPv4 or IPv6.
    #[arg(long, global = true, value_name = "MODE")]
    imds_endpoint_mode: Option<String>,
    /// Per-attempt IMDS timeout in seconds.
    #[arg(long, global = true, value_name = "SECONDS")]
    imds_timeout: Option<String>,
    /// Attempts per IMDS request.
    #[arg(long, global = true, value_name = "N")]
    imds_attempts: Option<String>,
    /// Refresh this long before expiry (e.g. 15m), or `auto` to scale with the lifetime.
    #[arg(long, global = true, value_name = "DURATION")]
    refresh_ahead: Option<String>,
    /// NTP server(s), comma-separated `host[:port]`, or `off`.
    #[arg(long, global = true, value_name = "SERVERS")]
    ntp_server: Option<String>,
}

/// The role to assume and where base credentials come from (`credentials`, `watch`,
/// `config`). Overrides like [`SettingFlags`].
#[derive(Args, Debug, Default)]
struct RoleFlags {
    /// Assume this IAM role on top of the source (arn:aws:iam::ACCOUNT:role/NAME).
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// The role session name (default freshcreds-<unix seconds>).
    #[arg(long, value_name = "NAME")]
    role_session_name: Option<String>,
    /// The role session's duration, 15m to 12h (at most 1h on instance-profile credentials:
    /// role chaining).
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// The external id the role's trust policy asks for.
    #[arg(long, value_name = "ID")]
    external_id: Option<String>,
    /// An inline session policy (JSON) narrowing the role's permissions.
    #[arg(long, value_name = "JSON")]
    session_policy: Option<String>,
    /// Where base credentials come from: imds (the instance profile) or chain (the AWS
    /// SDKs' default chain: env, profile, web identity, container, IMDS).
    #[arg(long, value_name = "imds|chain")]
    source: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print credentials as `credential_process` JSON (Version 1) and exit.
    ///
    /// Use it from ~/.aws/config:  credential_process = freshcreds credentials
    Credentials {
        /// How long to wait for credentials.
        #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
        wait: Duration,
        #[command(flatten)]
        role: RoleFlags,
    },
    /// Run the refresher and print one line per event until interrupted.
    Watch {
        #[command(flatten)]
        role: RoleFlags,
    },
    /// Diagnose the causes of expired-token errors on this host.
    ///
    /// Runs every check concurrently under one deadline and prints one line per check, with
    /// the fix under each failure or warning. Exit status: 0 when nothing fails, 1 when a
    /// check fails, 2 for a usage error.
    Doctor(DoctorArgs),
    /// List every effective setting, its value and where it came from.
    Config(ConfigArgs),
}

#[derive(Args, Debug)]
struct DoctorArgs {
    /// Print the report as JSON: {"checks":[{"id","status","summary","fix"}],"version"}.
    #[arg(long)]
    json: bool,
    /// Remove expired entries from ~/.aws/cli/cache (never unexpired ones).
    #[arg(long)]
    fix: bool,
    /// Finish every check within this long (e.g. 4s, 10s).
    #[arg(long, default_value = "4s", value_parser = parse_deadline, value_name = "DURATION")]
    deadline: Duration,
}

#[derive(Args, Debug)]
struct ConfigArgs {
    /// Print {"settings":[{"name","value","source"}]}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    role: RoleFlags,
}

#[derive(Serialize)]
struct SettingsJson<'a> {
    settings: Vec<SettingJson<'a>>,
}

#[derive(Serialize)]
struct SettingJson<'a> {
    name: &'a str,
    value: &'a str,
    source: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessCredentials<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    expiration: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let config = match resolve(&cli.settings, role_flags(&cli.command)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("freshcreds: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(log_level(&cli.command, &config));
    let result = match cli.command {
        Command::Credentials { wait, .. } => credentials(config, wait),
        Command::Watch { .. } => watch(config),
        Command::Doctor(args) => return run_doctor(config, &args),
        Command::Config(args) => print_config(&config, args.json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("freshcreds: {e}");
            ExitCode::FAILURE
        }
    }
}

fn role_flags(command: &Command) -> Option<&RoleFlags> {
    match command {
        Command::Credentials { role, .. } | Command::Watch { role } => Some(role),
        Command::Config(args) => Some(&args.role),
        Command::Doctor(_) => None,
    }
}

fn resolve(flags: &SettingFlags, role: Option<&RoleFlags>) -> Result<Config, Error> {
    let mut inputs = Inputs::from_process();
    if let Some(r) = role {
        let pairs = [
            ("role.arn", &r.role_arn, "--role-arn"),
            (
                "role.session_name",
                &r.role_session_name,
                "--role-session-name",
            ),
            ("role.duration", &r.duration, "--duration"),
            ("role.external_id", &r.external_id, "--external-id"),
            ("role.session_policy", &r.session_policy, "--session-policy"),
            ("source", &r.source, "--source"),
        ];
        for (name, value, flag) in pairs {
            if let Some(v) = value {
                inputs.set(name, v.clone(), flag);
            }
        }
    }
    let pairs = [
        ("imds.endpoint", &flags.imds_endpoint, "--imds-endpoint"),
        (
            "imds.endpoint_mode",
            &flags.imds_endpoint_mode,
            "--imds-endpoint-mode",
        ),
        ("imds.timeout", &flags.imds_timeout, "--imds-timeout"),
        ("imds.attempts", &flags.imds_attempts, "--imds-attempts"),
        ("refresh.ahead", &flags.refresh_ahead, "--refresh-ahead"),
        ("ntp.servers", &flags.ntp_server, "--ntp-server"),
    ];
    for (name, value, flag) in pairs {
        if let Some(v) = value {
            inputs.set(name, v.clone(), flag);
        }
    }
    Config::resolve(&inputs)
}

/// `doctor` and `config` report findings themselves: unless `FRESHCREDS_LOG` asks for logs,
/// the engine's warnings and errors (which would repeat the findings on stderr) stay off.
fn log_level<'a>(command: &Command, config: &'a Config) -> &'a str {
    let chosen = config
        .resolved
        .iter()
        .any(|r| r.name == "log.level" && r.origin != Origin::Default);
    match command {
        Command::Doctor(_) | Command::Config(_) if !chosen => "off",
        _ => &config.log_level,
    }
}

fn parse_deadline(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if !d.is_zero() && d <= Duration::from_secs(600) => Ok(d),
        Ok(_) => Err("expected a duration from 1ms to 10m".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn run_doctor(config: Config, args: &DoctorArgs) -> ExitCode {
    let options = doctor::Options {
        config,
        inputs: Inputs::from_process(),
        deadline: args.deadline,
        fix: args.fix,
    };
    let report = match doctor::run(options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("freshcreds: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        emit(&format!("{}\n", report.to_json()));
    } else {
        emit(&report.render());
    }
    ExitCode::from(report.exit_code())
}

/// Writes to stdout; a closed pipe (`freshcreds doctor | head`) is not an error worth a panic.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn print_config(config: &Config, json: bool) -> Result<(), Error> {
    if json {
        let out = SettingsJson {
            settings: config
                .resolved
                .iter()
                .map(|r| SettingJson {
                    name: r.name,
                    value: &r.value,
                    source: r.origin.to_string(),
                })
                .collect(),
        };
        let text =
            serde_json::to_string_pretty(&out).map_err(|e| Error::Unreachable(e.to_string()))?;
        emit(&format!("{text}\n"));
        return Ok(());
    }
    let name_w = config
        .resolved
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let value_w = config
        .resolved
        .iter()
        .map(|r| r.value.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut text = format!("{:<name_w$}  {:<value_w$}  SOURCE\n", "NAME", "VALUE");
    for r in &config.resolved {
        text.push_str(&format!(
            "{:<name_w$}  {:<value_w$}  {}\n",
            r.name, r.value, r.origin
        ));
    }
    emit(&text);
    Ok(())
}

/// Logs go to stderr, never stdout: stdout of `credentials` is read by the AWS CLI/SDKs.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Chain mode may run a profile's `credential_process`, which may be this very command:
/// refuse to be started by ourselves, and mark our children.
fn guard_chain(config: &Config) -> Result<(), Error> {
    if config.source == SourceKind::Chain {
        freshcreds::internal::guard_process_recursion()?;
    }
    Ok(())
}

fn credentials(config: Config, wait: Duration) -> Result<(), Error> {
    guard_chain(&config)?;
    // A one-shot process: no NTP probe needed before answering; IMDS Date headers suffice.
    let engine = Engine::start(config)?;
    let snapshot = engine.credentials_blocking(wait)?;
    let c = &snapshot.credentials;
    let out = ProcessCredentials {
        version: 1,
        access_key_id: c.access_key_id(),
        secret_access_key: c.secret_access_key().expose(),
        session_token: c.session_token().map(|t| t.expose()),
        expiration: rfc3339(c.expiration()),
    };
    let json = serde_json::to_string_pretty(&out).map_err(|e| Error::Unreachable(e.to_string()))?;
    println!("{json}");
    engine.close();
    Ok(())
}

fn watch(config: Config) -> Result<(), Error> {
    guard_chain(&config)?;
    let engine = Engine::start(config)?;
    let mut events = engine.subscribe();
    println!("{} watching {}", stamp(&engine), engine.health().source);
    engine.handle().clone().block_on(async {
        // Asks for the first fetch now rather than waiting for the schedule.
        let first = engine.credentials(Duration::from_millis(1));
        let _ = first.await;
        let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
        loop {
            tokio::select! {
                _ = &mut interrupt => break,
                event = events.recv() => match event {
                    Ok(e) => println!("{} {}", stamp(&engine), describe(&e)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => println!("{} ({n} events skipped)", stamp(&engine)),
                    Err(_) => break,
                },
            }
        }
    });
    engine.close();
    Ok(())
}

fn stamp(engine: &Engine) -> String {
    rfc3339(engine.clock().corrected_now())
}

fn describe(event: &Event) -> String {
    match event {
        Event::Refreshed {
            seq,
            key_id,
            expiration,
            next_refresh,
        } => format!(
            "refreshed seq={seq} key={key_id} expires={} next_refresh={}",
            rfc3339(*expiration),
            rfc3339(*next_refresh)
        ),
        Event::Unchanged {
            expiration,
            retry_in,
        } => format!(
            "unchanged expires={} retry_in={}",
            rfc3339(*expiration),
            humantime::format_duration(round(*retry_in))
        ),
        Event::RefreshFailed {
            error,
            retry_in,
            serving_until,
        } => format!(
            "failure retry_in={} serving_until={}: {error}",
            humantime::format_duration(round(*retry_in)),
            serving_until.map(rfc3339).unwrap_or_else(|| "none".into())
        ),
        Event::SkewChanged { skew_ms, source } => {
            format!(
                "skew {:+.3}s source={}",
                *skew_ms as f64 / 1000.0,
                source.as_str()
            )
        }
        other => format!("{other:?}"),
    }
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

//! The JNI boundary, and nothing else: the only module with `unsafe` code and FFI.
//!
//! # Binding
//! Natives are bound with `RegisterNatives` from `JNI_OnLoad`, not found by exported
//! `Java_…` names, so classes relocated by a shading tool still link. The Java loader puts
//! the binding class's and the exception class's names (taken from class literals, which
//! relocation rewrites) in the system property [`BIND_PROPERTY`] around `System.load`;
//! without it the canonical names are used. `FindClass` in `JNI_OnLoad` uses the class
//! loader that loaded the library.
//!
//! # Errors and panics
//! Every native method goes through `native_method!` with the [`ThrowFresh`] policy: a
//! panic is caught before it can unwind into the JVM, and a panic or an `Err` becomes one
//! Java exception type (`dev.freshcreds.FreshCredentialsException`, looked up once in
//! `JNI_OnLoad`), while the method returns 0, `false` or `null`.
//!
//! # Threads
//! Only Java threads run this code. The engine's own threads never attach to the JVM; what
//! they produce reaches Java through [`crate::bridge`] (snapshots, skew) and
//! [`crate::log_queue`] (log records), which the Java updater thread drains.
//!
//! # Wire shapes
//! Values cross as `String[]` and `long[]` the Java side allocates, so no Java class is
//! constructed from native code:
//! - snapshot strings: access key id, secret access key, session token (or `null`), account
//!   id (or `null`); numbers: sequence, expiration (epoch ms), skew (server − local, ms),
//!   fetch time (epoch ms);
//! - health strings: abbreviated key id, last error, skew source, IMDS version, source
//!   description (each may be `null`); numbers: expiration, last refresh, next refresh
//!   (epoch ms or `Long.MIN_VALUE` for none), refresh count, failure count, skew (ms),
//!   engine id, engines in the process.

use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jni::errors::ErrorPolicy;
use jni::objects::{Global, JClass, JLongArray, JObjectArray, JString};
use jni::strings::JNIString;
use jni::sys::{jboolean, jint, jlong, JavaVM as RawJavaVM, JNI_ERR, JNI_VERSION_1_8};
use jni::{jni_sig, jni_str, native_method, Env, JavaVM, NativeMethod};

use crate::bridge::{self, OpenRequest, LOGS};
use crate::credentials::Snapshot;
use crate::log_queue::{level as log_level, QueueLayer};

/// Bumped whenever a native method's signature or a wire shape changes; the Java side
/// refuses a library with another number.
pub const ABI_VERSION: jint = 1;

/// System property naming the binding class and the exception class, comma-separated.
pub const BIND_PROPERTY: &str = "freshcreds.native.bind";
const DEFAULT_BINDING: &str = "dev.freshcreds.internal.Native";
const DEFAULT_EXCEPTION: &str = "dev.freshcreds.FreshCredentialsException";

/// The longest single wait the updater may ask for; bounds how long a stuck wait can last.
const MAX_WAIT: Duration = Duration::from_secs(60);
const NONE: jlong = jlong::MIN;

static EXCEPTION_CLASS: OnceLock<Global<JClass<'static>>> = OnceLock::new();

/// What a native method can fail with; every variant becomes a
/// `FreshCredentialsException` with this message.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The engine said no (configuration, IMDS, timeout, closed).
    #[error("{0}")]
    Engine(#[from] crate::Error),
    /// A JNI call failed (an exception may already be pending).
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
    /// Java passed something this side cannot use.
    #[error("bad argument from Java: {0}")]
    Argument(&'static str),
}

type Outcome<T> = std::result::Result<T, Failure>;

/// The error policy of every native method: one Java exception type for errors and panics.
struct ThrowFresh;

impl ThrowFresh {
    fn throw(env: &mut Env<'_>, message: &str) {
        if env.exception_check() {
            return; // a Java exception is already on its way
        }
        let message = JNIString::from(message);
        let thrown = match EXCEPTION_CLASS.get() {
            Some(class) => env.throw_new(class, &message),
            None => env.throw_new(jni_str!("java/lang/IllegalStateException"), &message),
        };
        if thrown.is_err() && !env.exception_check() {
            let _ = env.throw_new(jni_str!("java/lang/Error"), &message);
        }
    }
}

impl<T: Default> ErrorPolicy<T, Failure> for ThrowFresh {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        err: Failure,
    ) -> jni::errors::Result<T> {
        Self::throw(env, &err.to_string());
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let detail = match payload.downcast_ref::<&'static str>() {
            Some(s) => (*s).to_owned(),
            None => match payload.downcast_ref::<String>() {
                Some(s) => s.clone(),
                None => "non-string panic payload".to_owned(),
            },
        };
        // Dropping a payload can itself panic: never let that unwind into the JVM.
        if catch_unwind(AssertUnwindSafe(|| drop(payload))).is_err() {
            tracing::error!("a panic payload panicked while being dropped");
        }
        Self::throw(
            env,
            &format!("panic in the freshcreds native library (please report it): {detail}"),
        );
        Ok(T::default())
    }
}

// ===== JNI_OnLoad =====

/// Called by the JVM when `System.load` loads this library: binds the natives and installs
/// the log layer. Returns `JNI_ERR` (the load then fails with an `UnsatisfiedLinkError`)
/// when the binding class or the exception class cannot be found.
///
/// # Safety
/// Only the JVM calls this, with a valid `JavaVM` pointer, on a thread it has attached.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(vm: *mut RawJavaVM, _reserved: *mut c_void) -> jint {
    if vm.is_null() {
        return JNI_ERR;
    }
    let loaded = catch_unwind(|| {
        // Safety: the JVM passes its own, valid `JavaVM` to `JNI_OnLoad`.
        let vm = unsafe { JavaVM::from_raw(vm) };
        // The calling thread is attached already (it runs `System.load`): no new attachment.
        vm.attach_current_thread(|env| -> Outcome<()> { on_load(env) })
    });
    match loaded {
        Ok(Ok(())) => JNI_VERSION_1_8,
        _ => JNI_ERR,
    }
}

fn on_load(env: &mut Env<'_>) -> Outcome<()> {
    let (binding, exception) = bind_names(env)?;
    let exception_class = env.find_class(JNIString::from(exception.replace('.', "/")))?;
    let global = env.new_global_ref(&exception_class)?;
    let _ = EXCEPTION_CLASS.set(global);
    let class = env.find_class(JNIString::from(binding.replace('.', "/")))?;
    // Safety: every entry of `methods()` comes from `native_method!`, which checks each Rust
    // function against its JNI signature at compile time, and all of them are `static`, as
    // the Java declarations are (the macro also checks that once per method at run time).
    unsafe { env.register_native_methods(&class, &methods())? };
    install_log_layer();
    Ok(())
}

/// The binding and exception class names, from [`BIND_PROPERTY`] or the defaults.
fn bind_names(env: &mut Env<'_>) -> Outcome<(String, String)> {
    let key = JString::from_str(env, BIND_PROPERTY)?;
    let value = env
        .call_static_method(
            jni_str!("java/lang/System"),
            jni_str!("getProperty"),
            jni_sig!((java.lang.String) -> java.lang.String),
            &[(&key).into()],
        )?
        .l()?;
    if value.is_null() {
        return Ok((DEFAULT_BINDING.to_owned(), DEFAULT_EXCEPTION.to_owned()));
    }
    let value = env.cast_local::<JString>(value)?.to_string();
    match value.split_once(',') {
        Some((b, e)) if !b.trim().is_empty() && !e.trim().is_empty() => {
            Ok((b.trim().to_owned(), e.trim().to_owned()))
        }
        _ => Err(Failure::Argument(
            "freshcreds.native.bind must be BindingClass,ExceptionClass",
        )),
    }
}

fn install_log_layer() {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(QueueLayer::new(&LOGS));
    // An embedding process may have installed its own subscriber: then it keeps the logs.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

fn methods() -> [NativeMethod<'static>; 14] {
    [
        native_method! { static fn abi_version() -> jint, error_policy = ThrowFresh },
        native_method! { static fn library_version() -> JString, error_policy = ThrowFresh },
        native_method! {
            static fn engine_open(props: JString[], overrides: JString[]) -> jlong,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_wait(handle: jlong, timeout_millis: jlong) -> jint,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_snapshot(handle: jlong, strings: JString[], numbers: jlong[]) -> jboolean,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_credentials(
                handle: jlong, wait_millis: jlong, strings: JString[], numbers: jlong[]
            ) -> void,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_invalidate(handle: jlong) -> jboolean,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_measure_clock(handle: jlong) -> void,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_health(handle: jlong, strings: JString[], numbers: jlong[]) -> void,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_close(handle: jlong) -> void,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn log_drain(max: jint, dropped: jlong[]) -> JString[],
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn log_level(level: jint) -> void,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn engine_count() -> jint,
            error_policy = ThrowFresh,
        },
        native_method! {
            static fn debug_panic(message: JString) -> void,
            error_policy = ThrowFresh,
        },
    ]
}

// ===== native methods =====

fn abi_version(_env: &mut Env<'_>, _class: JClass<'_>) -> Outcome<jint> {
    Ok(ABI_VERSION)
}

fn library_version<'local>(
    env: &mut Env<'local>,
    _class: JClass<'local>,
) -> Outcome<JString<'local>> {
    Ok(JString::from_str(env, env!("CARGO_PKG_VERSION"))?)
}

fn engine_open(
    env: &mut Env<'_>,
    _class: JClass<'_>,
    props: JObjectArray<'_, JString<'_>>,
    overrides: JObjectArray<'_, JString<'_>>,
) -> Outcome<jlong> {
    let request = OpenRequest {
        props: pairs(env, &props)?.into_iter().collect::<HashMap<_, _>>(),
        overrides: pairs(env, &overrides)?,
    };
    Ok(bridge::open(request)?.id)
}

fn engine_wait(
    _env: &mut Env<'_>,
    _class: JClass<'_>,
    handle: jlong,
    timeout_millis: jlong,
) -> Outcome<jint> {
    let handle = bridge::get(handle)?;
    let timeout = Duration::from_millis(u64::try_from(timeout_millis).unwrap_or(0)).min(MAX_WAIT);
    // The flags are small bits: they fit a jint.
    Ok(handle.wait(timeout) as jint)
}

fn engine_snapshot(
    env: &mut Env<'_>,
    _class: JClass<'_>,
    handle: jlong,
    strings: JObjectArray<'_, JString<'_>>,
    numbers: JLongArray<'_>,
) -> Outcome<jboolean> {
    let (snapshot, skew_ms) = bridge::get(handle)?.snapshot();
    match snapshot {
        Some(s) => {
            write_snapshot(env, &s, skew_ms, &strings, &numbers)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn engine_credentials(
    env: &mut Env<'_>,
    _class: JClass<'_>,
    handle: jlong,
    wait_millis: jlong,
    strings: JObjectArray<'_, JString<'_>>,
    numbers: JLongArray<'_>,
) -> Outcome<()> {
    let handle = bridge::get(handle)?;
    let wait = Duration::from_millis(u64::try_from(wait_millis).unwrap_or(0)).min(MAX_WAIT);
    let snapshot = handle.credentials(wait)?;
    let skew_ms = handle.shared.engine.clock().skew_ms();
    write_snapshot(env, &snapshot, skew_ms, &strings, &numbers)
}

fn engine_invalidate(_env: &mut Env<'_>, _class: JClass<'_>, handle: jlong) -> Outcome<jboolean> {
    Ok(bridge::get(handle)?.invalidate())
}

fn engine_measure_clock(_env: &mut Env<'_>, _class: JClass<'_>, handle: jlong) -> Outcome<()> {
    bridge::get(handle)?.request_clock_measurement();
    Ok(())
}

fn engine_health(
    env: &mut Env<'_>,
    _class: JClass<'_>,
    handle: jlong,
    strings: JObjectArray<'_, JString<'_>>,
    numbers: JLongArray<'_>,
) -> Outcome<()> {
    let handle = bridge::get(handle)?;
    let h = handle.health();
    set_strings(
        env,
        &strings,
        &[
            h.key_id.as_deref(),
            h.last_error.as_deref(),
            Some(h.skew_source.as_str()),
            Some(h.imds_version.as_str()),
            Some(&h.source),
        ],
    )?;
    let time = |t: Option<SystemTime>| t.map_or(NONE, epoch_millis);
    set_numbers(
        env,
        &numbers,
        &[
            time(h.expiration),
            time(h.last_refresh),
            time(h.next_refresh),
            saturate(h.refresh_count),
            saturate(h.failure_count),
            h.skew_ms,
            saturate(handle.shared.id),
            saturate(bridge::engine_count() as u64),
        ],
    )
}

fn engine_close(_env: &mut Env<'_>, _class: JClass<'_>, handle: jlong) -> Outcome<()> {
    bridge::close(handle);
    Ok(())
}

fn log_drain<'local>(
    env: &mut Env<'local>,
    _class: JClass<'local>,
    max: jint,
    dropped: JLongArray<'local>,
) -> Outcome<JObjectArray<'local, JString<'local>>> {
    let records = LOGS.drain(usize::try_from(max).unwrap_or(0));
    set_numbers(env, &dropped, &[saturate(LOGS.take_dropped())])?;
    let out = JObjectArray::<JString>::new(env, records.len() * 3, JString::null())?;
    for (i, r) in records.iter().enumerate() {
        let level = JString::from_str(env, r.level.to_string())?;
        out.set_element(env, 3 * i, &level)?;
        let target = JString::from_str(env, &r.target)?;
        out.set_element(env, 3 * i + 1, &target)?;
        let message = JString::from_str(env, &r.message)?;
        out.set_element(env, 3 * i + 2, &message)?;
    }
    Ok(out)
}

fn log_level(_env: &mut Env<'_>, _class: JClass<'_>, level: jint) -> Outcome<()> {
    let level = level.clamp(jint::from(log_level::OFF), jint::from(log_level::TRACE));
    LOGS.set_level(u8::try_from(level).unwrap_or(log_level::OFF));
    Ok(())
}

fn engine_count(_env: &mut Env<'_>, _class: JClass<'_>) -> Outcome<jint> {
    Ok(jint::try_from(bridge::engine_count()).unwrap_or(jint::MAX))
}

/// Test-only: panics, to prove a panic arrives in Java as an exception.
fn debug_panic(_env: &mut Env<'_>, _class: JClass<'_>, message: JString<'_>) -> Outcome<()> {
    let message = message.to_string();
    panic!("debugPanic: {message}");
}

// ===== helpers =====

fn write_snapshot(
    env: &mut Env<'_>,
    s: &Snapshot,
    skew_ms: i64,
    strings: &JObjectArray<'_, JString<'_>>,
    numbers: &JLongArray<'_>,
) -> Outcome<()> {
    let c = &s.credentials;
    set_strings(
        env,
        strings,
        &[
            Some(c.access_key_id()),
            Some(c.secret_access_key().expose()),
            c.session_token().map(|t| t.expose()),
            c.account_id(),
        ],
    )?;
    set_numbers(
        env,
        numbers,
        &[
            saturate(s.seq),
            epoch_millis(c.expiration()),
            skew_ms,
            epoch_millis(s.fetched_at),
        ],
    )
}

/// Reads a flattened `String[]` of key/value pairs; `null` entries are skipped.
fn pairs(
    env: &mut Env<'_>,
    array: &JObjectArray<'_, JString<'_>>,
) -> Outcome<Vec<(String, String)>> {
    if array.is_null() {
        return Ok(Vec::new());
    }
    let len = array.len(env)?;
    if len % 2 != 0 {
        return Err(Failure::Argument("key/value array of odd length"));
    }
    let mut out = Vec::with_capacity(len / 2);
    for i in (0..len).step_by(2) {
        let k = array.get_element(env, i)?;
        let v = array.get_element(env, i + 1)?;
        if k.is_null() || v.is_null() {
            continue;
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn set_strings(
    env: &mut Env<'_>,
    array: &JObjectArray<'_, JString<'_>>,
    values: &[Option<&str>],
) -> Outcome<()> {
    if array.is_null() || array.len(env)? < values.len() {
        return Err(Failure::Argument("string array too short"));
    }
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let s = JString::from_str(env, v)?;
                array.set_element(env, i, &s)?;
            }
            None => array.set_element(env, i, JString::null())?,
        }
    }
    Ok(())
}

fn set_numbers(env: &mut Env<'_>, array: &JLongArray<'_>, values: &[jlong]) -> Outcome<()> {
    if array.is_null() || array.len(env)? < values.len() {
        return Err(Failure::Argument("number array too short"));
    }
    array.set_region(env, 0, values)?;
    Ok(())
}

fn epoch_millis(t: SystemTime) -> jlong {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => jlong::try_from(d.as_millis()).unwrap_or(jlong::MAX),
        Err(e) => -jlong::try_from(e.duration().as_millis()).unwrap_or(jlong::MAX),
    }
}

fn saturate(n: u64) -> jlong {
    jlong::try_from(n).unwrap_or(jlong::MAX)
}

//! The collection context every API call goes through: it counts calls per [`Op`],
//! bounds each call by the per-call timeout and the overall deadline, shows progress,
//! classifies SDK errors from their typed metadata (never from `Display`, which says only
//! "service error"), and turns failures into [`CollectError`]s so that collection goes
//! on without the check that needed the call.

use super::ops::{Op, OP_COUNT};
use crate::snapshot::CollectError;
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use futures_util::stream::{self, StreamExt};
use indicatif::ProgressBar;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    /// The service answered with an error code (AccessDenied, NotFound ...).
    Service,
    /// Throttled, still after the SDK's retries.
    Throttled,
    /// The credentials were rejected (expired, unknown, bad signature).
    Auth,
    /// The endpoint could not be reached (connection refused, DNS, TLS).
    Unreachable,
    /// The call or the overall deadline ran out.
    Timeout,
    /// The request could not be built or signed (no credentials, no region).
    Construction,
    Other,
}

/// A failed call, classified.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub kind: FailKind,
}

const AUTH_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "RequestExpired",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidAccessKeyId",
];

const THROTTLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Classifies an SDK error by its variant, error code and source chain.
pub fn classify<E, R>(e: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let one_line = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("Unknown").to_string();
            let message = err
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| one_line(DisplayErrorContext(err).to_string()));
            let kind = if AUTH_CODES.contains(&code.as_str()) {
                FailKind::Auth
            } else if THROTTLE_CODES.contains(&code.as_str()) {
                FailKind::Throttled
            } else {
                FailKind::Service
            };
            Failure {
                code,
                message: one_line(message),
                kind,
            }
        }
        SdkError::TimeoutError(_) => Failure {
            code: "Timeout".into(),
            message: "the call timed out".into(),
            kind: FailKind::Timeout,
        },
        SdkError::DispatchFailure(d) => {
            let (code, kind) = if d.is_timeout() {
                ("Timeout", FailKind::Timeout)
            } else if d.is_io() || d.is_other() {
                ("DispatchFailure", FailKind::Unreachable)
            } else {
                ("DispatchFailure", FailKind::Other)
            };
            Failure {
                code: code.into(),
                message: reason_of(e),
                kind,
            }
        }
        SdkError::ConstructionFailure(_) => Failure {
            code: "ConstructionFailure".into(),
            message: one_line(DisplayErrorContext(e).to_string()),
            kind: FailKind::Construction,
        },
        _ => Failure {
            code: e.code().unwrap_or("ResponseError").to_string(),
            message: one_line(DisplayErrorContext(e).to_string()),
            kind: FailKind::Other,
        },
    }
}

/// A short reason from the error's source chain: the `io::ErrorKind` when there is an
/// `io::Error` in it (connection refused ...), else the innermost message.
pub fn reason_of(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut last = e.to_string();
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                std::io::ErrorKind::TimedOut => "connection timed out".into(),
                std::io::ErrorKind::NotFound => "host not found".into(),
                _ => io.to_string(),
            };
        }
        last = err.to_string();
        cur = err.source();
    }
    last
}

/// Shared state of one collection run.
pub struct Ctx {
    deadline: Instant,
    call_timeout: Duration,
    concurrency: usize,
    /// Bounds the calls in flight across all stages (which run concurrently).
    in_flight: tokio::sync::Semaphore,
    counts: [AtomicU64; OP_COUNT],
    errors: Mutex<Vec<CollectError>>,
    progress: Option<ProgressBar>,
}

impl Ctx {
    pub fn new(
        overall: Duration,
        call_timeout: Duration,
        concurrency: usize,
        progress: Option<ProgressBar>,
    ) -> Ctx {
        Ctx {
            deadline: Instant::now()
                .checked_add(overall)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(86400 * 3650)),
            call_timeout,
            concurrency: concurrency.max(1),
            in_flight: tokio::sync::Semaphore::new(concurrency.max(1)),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            errors: Mutex::new(Vec::new()),
            progress,
        }
    }

    /// Runs one API call: at most `concurrency` at once, counted, bounded by the per-call
    /// timeout and what is left of the overall deadline, and classified when it fails.
    pub async fn call<T, E, R, F>(&self, op: Op, fut: F) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        // The semaphore is never closed; a permit is held only for this one call, so
        // nested stages cannot deadlock.
        let _permit = self.in_flight.acquire().await.ok();
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure {
                code: "DeadlineExceeded".into(),
                message: "the overall --timeout ran out before this call".into(),
                kind: FailKind::Timeout,
            });
        }
        let n = self.counts[op.index()].fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(p) = &self.progress {
            p.set_message(format!("{} ({n})", op.action()));
            p.tick();
        }
        match tokio::time::timeout(left.min(self.call_timeout), fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(&e)),
            Err(_) => Err(Failure {
                code: "Timeout".into(),
                message: format!(
                    "no answer within {}s",
                    left.min(self.call_timeout).as_secs()
                ),
                kind: FailKind::Timeout,
            }),
        }
    }

    /// [`Ctx::call`], recording a failure as a collection error; `None` when it failed.
    pub async fn get<T, E, R, F>(&self, op: Op, fut: F) -> Option<T>
    where
        F: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        match self.call(op, fut).await {
            Ok(v) => Some(v),
            Err(f) => {
                self.record(op, &f, None);
                None
            }
        }
    }

    /// What is left of the overall deadline.
    pub fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Records a failed call as a collection error (once per action and code).
    pub fn record(&self, op: Op, f: &Failure, check: Option<String>) {
        let mut errs = self.errors.lock().expect("errors lock");
        let code = Some(f.code.clone());
        if errs
            .iter()
            .any(|e| e.action == op.action() && e.code == code)
        {
            return;
        }
        errs.push(CollectError {
            action: op.action().to_string(),
            code,
            message: f.message.clone(),
            check: Some(check.unwrap_or_else(|| op.check().to_string())),
        });
    }

    /// Runs `f` over `items`, at most the configured number at once (their calls also
    /// share the bound of [`Ctx::call`] with every other stage), keeping the input order.
    pub async fn each<I, T, Fut, F>(&self, items: I, f: F) -> Vec<T>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future<Output = T>,
    {
        stream::iter(items)
            .map(f)
            .buffered(self.concurrency)
            .collect()
            .await
    }

    /// Calls made so far, per IAM action (only those called).
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        Op::ALL
            .iter()
            .map(|o| (o.action(), self.counts[o.index()].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The collection errors recorded so far, sorted.
    pub fn take_errors(&self) -> Vec<CollectError> {
        let mut v = std::mem::take(&mut *self.errors.lock().expect("errors lock"));
        v.sort_by(|a, b| (&a.action, &a.code).cmp(&(&b.action, &b.code)));
        v
    }

    pub fn finish_progress(&self) {
        if let Some(p) = &self.progress {
            p.finish_and_clear();
        }
    }

    pub fn set_stage(&self, stage: &str) {
        if let Some(p) = &self.progress {
            p.set_prefix(stage.to_string());
        }
    }
}

//! Polling: `eventually` a check holds, every object Ready, an object's Ready reason.

use azdo_operator::reason::Reason;
use std::future::Future;
use std::time::{Duration, Instant};

use kube::api::DynamicObject;

use super::objects::{describe, get};
use super::{Ready, TestResult};

/// How often the kit polls.
pub const POLL: Duration = Duration::from_millis(200);

/// One look at what a test waits for: done with a value, or not yet, with what was seen.
pub enum Check<T> {
    Done(T),
    NotYet(String),
}

/// Poll `check` every [`POLL`] until it is [`Check::Done`]; after `timeout`, an error naming
/// `what` and the last [`Check::NotYet`] state. An error from `check` ends the wait at once.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, check: F) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = TestResult<Check<T>>>,
{
    until_every(what, timeout, POLL, check).await
}

/// [`until`], polling every `interval`.
pub async fn until_every<T, F, Fut>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut check: F,
) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = TestResult<Check<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let seen = match check().await? {
            Check::Done(value) => return Ok(value),
            Check::NotYet(seen) => seen,
        };
        if Instant::now() > deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}; last seen: {seen}"
            )
            .into());
        }
        tokio::time::sleep(interval).await;
    }
}

/// Poll `check` until it returns true, for at most `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: Future<Output = TestResult<bool>>,
{
    until(what, timeout, || {
        let done = check();
        async move {
            Ok(if done.await? {
                Check::Done(())
            } else {
                Check::NotYet("false".into())
            })
        }
    })
    .await
}

/// Wait until every object reports Ready=`status` for its current generation; returns them as
/// they were then, in the same order.
pub async fn wait_ready(
    client: &kube::Client,
    objs: &[DynamicObject],
    status: &str,
    timeout: Duration,
) -> TestResult<Vec<DynamicObject>> {
    until(&format!("Ready={status}"), timeout, || async {
        let mut ready = Vec::new();
        let mut pending = Vec::new();
        for obj in objs {
            let current = get(client, obj).await?;
            match Ready::of(&current) {
                Some(r) if r.is(status) => ready.push(current),
                other => pending.push(format!("{}: {other:?}", describe(obj))),
            }
        }
        Ok(if pending.is_empty() {
            Check::Done(ready)
        } else {
            Check::NotYet(format!("{pending:#?}"))
        })
    })
    .await
}

/// Wait until the object's Ready condition has `reason` (any status, any generation); returns
/// the condition.
pub async fn wait_for_reason(
    client: &kube::Client,
    obj: &DynamicObject,
    reason: Reason,
    timeout: Duration,
) -> TestResult<Ready> {
    until(
        &format!("{} to report Ready reason {reason}", describe(obj)),
        timeout,
        || async {
            Ok(match Ready::of(&get(client, obj).await?) {
                Some(ready) if ready.has(reason) => Check::Done(ready),
                other => Check::NotYet(format!("{other:?}")),
            })
        },
    )
    .await
}

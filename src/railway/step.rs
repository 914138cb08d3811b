//! The one way a Railway run (deploy.rs, rollback.rs) sends a request that may not come
//! back in time, and paces its reads.
//!
//! [`attempt`] (a mutation) and [`read`] (a query) send under [`crate::interrupt::unless_requested`]: a signal ends the run
//! `interrupted`, a refused mutation (`errors[]`, not a refused token) ends it `failed`, the
//! run's deadline ends it `timeout`; anything else (a refused token, the network, a server
//! error) stays an error for the caller (exit 3). [`pace`] waits for the next read and makes
//! the last one fall at the deadline, so a deployment that finished just before it is read.

use std::future::Future;
use std::time::{Duration, Instant};

use super::client::Client;
use super::deploy::Outcome;
use super::error::GraphQlError;
use crate::interrupt::Received;

/// How a run ends early, and why (one line for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub status: Outcome,
    pub reason: String,
}

impl Stop {
    pub fn interrupted(received: Received) -> Self {
        Self {
            status: Outcome::Interrupted,
            reason: received.describe(),
        }
    }
}

/// A refused mutation (not a refused token): a failed run, with Railway's words.
pub fn refusal(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .find_map(|e| e.downcast_ref::<GraphQlError>())
        .filter(|e| !e.is_auth())
        .map(ToString::to_string)
}

/// Sends a mutation unless a signal comes first; see the module documentation.
pub async fn attempt<T>(
    mutation: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<Result<T, Stop>> {
    send(mutation, true).await
}

/// [`attempt`] for a read: an answer with `errors[]` (e.g. "Deployment not found") is not a
/// refused change but an error, as a refused token is.
pub async fn read<T>(
    query: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<Result<T, Stop>> {
    send(query, false).await
}

async fn send<T>(
    request: impl Future<Output = anyhow::Result<T>>,
    mutation: bool,
) -> anyhow::Result<Result<T, Stop>> {
    match crate::interrupt::unless_requested(request).await {
        Ok(Ok(value)) => Ok(Ok(value)),
        Ok(Err(err)) => match refusal(&err).filter(|_| mutation) {
            Some(why) => Ok(Err(Stop {
                status: Outcome::Failed,
                reason: why,
            })),
            None if crate::http::is_deadline(&err) => Ok(Err(Stop {
                status: Outcome::Timeout,
                reason: format!("no answer before the timeout ({err})"),
            })),
            None => Err(err),
        },
        Err(received) => Ok(Err(Stop::interrupted(received))),
    }
}

/// The most the last read, sent at the deadline, may take.
pub const LAST_READ: Duration = Duration::from_secs(10);

/// The next read of a wait.
pub struct Read {
    /// The client to read with: the run's, or for the last read one bounded by
    /// `deadline + LAST_READ` (the run's own client has no time left at its deadline).
    pub client: Client,
    /// True when this read falls at the deadline: nothing comes after it.
    pub last: bool,
}

/// Waits until the next read: `poll_interval` from now (reads at least that far apart:
/// Railway's Free plan allows 100 requests an hour), or the deadline when that comes first,
/// which makes it the last read. A signal ends the wait.
pub async fn pace(
    client: &Client,
    poll_interval: Duration,
    deadline: Instant,
) -> Result<Read, Stop> {
    let next = Instant::now() + poll_interval;
    let last = next >= deadline;
    let at = if last { deadline } else { next };
    crate::interrupt::unless_requested(tokio::time::sleep_until(at.into()))
        .await
        .map_err(Stop::interrupted)?;
    let client = if last {
        client.until(deadline + LAST_READ)
    } else {
        client.clone()
    };
    Ok(Read { client, last })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::railway::TokenKind;

    fn refused() -> anyhow::Error {
        GraphQlError::new(
            "deploy",
            vec!["Deploys are paused".into()],
            TokenKind::Project,
        )
        .into()
    }

    fn deadline() -> anyhow::Error {
        anyhow::Error::new(crate::http::DeadlinePassed {
            what: "roll back".into(),
        })
        .context("roll back to deployment 1")
    }

    #[tokio::test]
    async fn a_refused_mutation_fails_the_run_a_deadline_times_it_out() {
        let stop = attempt(async { Err::<(), _>(refused()) }).await.unwrap();
        let stop = stop.unwrap_err();
        assert_eq!(stop.status, Outcome::Failed);
        assert!(
            stop.reason.contains("Deploys are paused"),
            "{}",
            stop.reason
        );
        let stop = attempt(async { Err::<(), _>(deadline()) }).await.unwrap();
        assert_eq!(stop.unwrap_err().status, Outcome::Timeout);
        let stop = read(async { Err::<(), _>(deadline()) }).await.unwrap();
        assert_eq!(stop.unwrap_err().status, Outcome::Timeout);
        // A query answered with errors[] and a refused token stay errors (exit 3).
        assert!(read(async { Err::<(), _>(refused()) }).await.is_err());
        let auth: anyhow::Error =
            GraphQlError::new("deploy", vec!["Not Authorized".into()], TokenKind::Project).into();
        assert!(attempt(async { Err::<(), _>(auth) }).await.is_err());
        assert_eq!(attempt(async { Ok(7) }).await.unwrap(), Ok(7));
    }
}

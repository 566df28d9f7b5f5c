//! In-process control of a running simulator: everything `/_sim` offers, from Rust.

use std::collections::HashMap;

use crate::auth::tokens::ClientAuth;
use crate::faults::Faults;
use crate::http::app::SharedApp;
use crate::log::RequestLogSnapshot;
use crate::model::{build_state, BuildError, State};
use crate::options::Behaviours;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no identity named `{0}` in the seed")]
    UnknownIdentity(String),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("issuing a token: {0}")]
    Token(#[from] crate::auth::tokens::TokenError),
}

/// What the simulator was started with, restored by [`Control::reset`].
#[derive(Debug, Clone)]
pub(crate) struct Initial {
    pub behaviours: Behaviours,
    pub faults: Faults,
}

#[derive(Clone)]
pub struct Control {
    app: SharedApp,
    initial: Initial,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

impl Control {
    pub(crate) fn new(app: SharedApp, initial: Initial) -> Control {
        Control { app, initial }
    }

    /// The whole state as JSON (what `GET /_sim/state` returns).
    pub fn state_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.app.state()).unwrap_or(serde_json::Value::Null)
    }

    /// A copy of the state, for typed inspection.
    pub fn state(&self) -> State {
        self.app.state().clone()
    }

    /// Runs `f` on the live state (for tests that need to arrange or inspect details).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.app.state())
    }

    /// Back to the seed: state, behaviours, faults and throttling budgets as at start.
    /// The request log is kept (see [`Control::clear_requests`]).
    pub fn reset(&self) -> Result<(), ControlError> {
        let state = build_state(&self.app.seed)?;
        self.app.replace_state(state);
        self.app.set_behaviours(self.initial.behaviours.clone());
        self.app.set_faults(self.initial.faults.clone());
        self.app.throttle().clear();
        Ok(())
    }

    pub fn faults(&self) -> Faults {
        self.app.faults()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.app.set_faults(faults);
    }

    pub fn behaviours(&self) -> Behaviours {
        self.app.behaviours()
    }

    pub fn set_behaviours(&self, behaviours: Behaviours) {
        self.app.set_behaviours(behaviours);
    }

    pub fn requests(&self) -> RequestLogSnapshot {
        self.app.log().snapshot()
    }

    pub fn clear_requests(&self) {
        self.app.log().clear();
    }

    /// Per identity: requests that arrived before a `Retry-After` given to it had elapsed.
    pub fn retry_after_violations(&self) -> HashMap<String, u64> {
        self.app.throttle().violations()
    }

    pub fn total_retry_after_violations(&self) -> u64 {
        self.retry_after_violations().values().sum()
    }

    /// Forgets throttling usage and Retry-After bookkeeping.
    pub fn clear_throttle(&self) {
        self.app.throttle().clear();
    }

    /// An access token for a seeded identity, as the token endpoint would issue it.
    pub fn issue_token(&self, identity: &str) -> Result<String, ControlError> {
        let identity = self
            .app
            .state()
            .identity_by_name(identity)
            .cloned()
            .ok_or_else(|| ControlError::UnknownIdentity(identity.to_string()))?;
        Ok(self.app.tokens.issue(
            &identity,
            ClientAuth::Secret,
            self.app.access_token_lifetime,
        )?)
    }
}

//! The state every handler shares.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::issuers::IssuerKeys;
use crate::auth::tokens::TokenService;
use crate::faults::{Faults, ThrottleState};
use crate::log::RequestLog;
use crate::model::State;
use crate::options::Behaviours;
use crate::seed::Seed;

/// The base URLs of the four hosts, as clients reach them.
#[derive(Debug, Clone)]
pub struct Urls {
    pub dev: String,
    pub vssps: String,
    pub vsaex: String,
    pub login: String,
}

pub struct App {
    pub seed: Seed,
    pub urls: Urls,
    pub tokens: TokenService,
    pub issuers: IssuerKeys,
    pub access_token_lifetime: Duration,
    pub managed_identity_secret: String,
    state: Mutex<State>,
    behaviours: Mutex<Behaviours>,
    faults: Mutex<Faults>,
    throttle: Mutex<ThrottleState>,
    log: Mutex<RequestLog>,
}

pub type SharedApp = Arc<App>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves consistent data here (no multi-step invariants
    // span an unlock), so poisoning is ignored.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct AppParts {
    pub seed: Seed,
    pub state: State,
    pub urls: Urls,
    pub tokens: TokenService,
    pub issuers: IssuerKeys,
    pub behaviours: Behaviours,
    pub faults: Faults,
    pub access_token_lifetime: Duration,
    pub managed_identity_secret: String,
}

impl App {
    pub fn new(parts: AppParts) -> App {
        App {
            seed: parts.seed,
            urls: parts.urls,
            tokens: parts.tokens,
            issuers: parts.issuers,
            access_token_lifetime: parts.access_token_lifetime,
            managed_identity_secret: parts.managed_identity_secret,
            state: Mutex::new(parts.state),
            behaviours: Mutex::new(parts.behaviours),
            faults: Mutex::new(parts.faults),
            throttle: Mutex::new(ThrottleState::default()),
            log: Mutex::new(RequestLog::default()),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn behaviours(&self) -> Behaviours {
        lock(&self.behaviours).clone()
    }

    pub fn set_behaviours(&self, behaviours: Behaviours) {
        *lock(&self.behaviours) = behaviours;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// The scripted error the request gets, if one matches (its count goes down by one).
    pub fn take_injected_error(
        &self,
        method: &str,
        path: &str,
    ) -> Option<crate::faults::InjectedError> {
        let mut faults = lock(&self.faults);
        let entry = faults
            .inject_errors
            .iter_mut()
            .find(|e| e.matches(method, path))?;
        entry.times -= 1;
        Some(entry.clone())
    }

    /// The scripted `loseAnswers` entry the request matches, if any (its count goes down by
    /// one): its answer is to be lost after it is carried out.
    pub fn take_lost_answer(&self, method: &str, path: &str) -> Option<crate::faults::LostAnswer> {
        let mut faults = lock(&self.faults);
        let entry = faults
            .lose_answers
            .iter_mut()
            .find(|e| e.matches(method, path))?;
        entry.times -= 1;
        Some(entry.clone())
    }

    pub fn throttle(&self) -> MutexGuard<'_, ThrottleState> {
        lock(&self.throttle)
    }

    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        lock(&self.log)
    }

    /// Replaces the state with a fresh build of the seed.
    pub fn replace_state(&self, state: State) {
        *lock(&self.state) = state;
    }

    /// When something written now becomes visible to reads.
    pub fn visible_from_now(&self) -> DateTime<Utc> {
        let lag = self.faults().consistency_lag_ms;
        Utc::now() + chrono::Duration::milliseconds(lag as i64)
    }
}

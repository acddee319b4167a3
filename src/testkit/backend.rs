//! An in-process back-end that counts its calls, knows the accounts it was told of, and
//! succeeds.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use secrecy::{ExposeSecret, SecretString};

use crate::{
    BoxFuture, Error,
    reset::{Account, Delivery, Lookup, Mode, ResetAdapter, ResetOutcome, ResetRequest},
};

/// An account the back-end knows as `canonical`, in `groups`.
pub fn account(canonical: &str, groups: &[&str]) -> Account {
    Account {
        canonical: Some(canonical.into()),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Account::default()
    }
}

/// The password every generated reset of this back-end returns.
pub const GENERATED: &str = "Generated-Pa55word!";

/// A back-end that counts resets and succeeds. Clones share their counts and accounts.
#[derive(Clone, Default)]
pub struct CountingAdapter {
    resets: Arc<AtomicUsize>,
    inspections: Arc<AtomicUsize>,
    /// What the back-end knows of accounts, by the name a request uses; any other name is an
    /// ordinary account under that name.
    accounts: Arc<Mutex<HashMap<String, Account>>>,
    /// The names the resets were made for.
    reset_names: Arc<Mutex<Vec<String>>>,
    /// Sessions: `None`, a back-end without them (a directory); `Some`, one that signs users
    /// out (Cognito), failing while the flag is set.
    sessions: Option<Arc<Sessions>>,
    /// The one code a confirm succeeds with (any other is `INVALID_CODE`, still counted as a
    /// reset call); `None`: every code.
    code: Arc<Mutex<Option<String>>>,
}

/// A back-end's session revocations.
#[derive(Default)]
struct Sessions {
    sign_outs: Mutex<Vec<String>>,
    failing: std::sync::atomic::AtomicBool,
}

impl CountingAdapter {
    /// Makes confirms succeed with `code` only, as a user pool that sent it would.
    pub fn expect_code(&self, code: &str) {
        *self.code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code.to_owned());
    }

    /// A back-end knowing `accounts` by the names requests use.
    pub fn with_accounts(accounts: &[(&str, Account)]) -> Self {
        let adapter = Self::default();
        for (name, account) in accounts {
            adapter.set_account(name, account.clone());
        }
        adapter
    }

    /// Tells the back-end what it knows of `name`.
    pub fn set_account(&self, name: &str, account: Account) {
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), account);
    }

    /// A back-end that also ends users' sessions (as Cognito's `AdminUserGlobalSignOut`).
    pub fn with_sessions() -> Self {
        Self::default().signing_out()
    }

    /// This back-end, with sessions it ends after a password change (as Cognito does).
    pub fn signing_out(mut self) -> Self {
        self.sessions = Some(Arc::default());
        self
    }

    /// Makes the sign-out fail (`true`) or work again.
    pub fn fail_sign_outs(&self, failing: bool) {
        if let Some(sessions) = &self.sessions {
            sessions.failing.store(failing, Ordering::SeqCst);
        }
    }

    /// The accounts signed out, in order.
    pub fn sign_outs(&self) -> Vec<String> {
        self.sessions
            .as_ref()
            .map(|s| {
                s.sign_outs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
            })
            .unwrap_or_default()
    }

    /// How many resets were made.
    pub fn resets(&self) -> usize {
        self.resets.load(Ordering::SeqCst)
    }

    /// How many accounts were read.
    pub fn inspections(&self) -> usize {
        self.inspections.load(Ordering::SeqCst)
    }

    /// The names the resets were made for, in order.
    pub fn reset_names(&self) -> Vec<String> {
        self.reset_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ResetAdapter for CountingAdapter {
    fn inspect<'a>(&'a self, lookup: &'a Lookup<'a>) -> BoxFuture<'a, Result<Account, Error>> {
        self.inspections.fetch_add(1, Ordering::SeqCst);
        let mut account = self
            .accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(lookup.username)
            .cloned()
            .unwrap_or_else(|| account(lookup.username, &[]));
        if !lookup.groups {
            account.groups.clear();
        }
        Box::pin(async move { Ok(account) })
    }

    fn revoke_sessions<'a>(
        &'a self,
        username: &'a str,
    ) -> Option<BoxFuture<'a, Result<(), Error>>> {
        let sessions = self.sessions.as_ref()?;
        let result = if sessions.failing.load(Ordering::SeqCst) {
            Err(Error::UpstreamUnavailable {
                retry_after_secs: 5,
            })
        } else {
            sessions
                .sign_outs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(username.to_owned());
            Ok(())
        };
        Some(Box::pin(async move { result }))
    }

    fn reset<'a>(
        &'a self,
        request: &'a ResetRequest<'a>,
    ) -> BoxFuture<'a, Result<ResetOutcome, Error>> {
        self.resets.fetch_add(1, Ordering::SeqCst);
        self.reset_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.username.to_owned());
        let mode = request.mode;
        let expected = self.code.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let wrong_code = match (mode, request.code, expected) {
            (Mode::Confirm, Some(code), Some(expected)) => code.expose_secret() != expected,
            (Mode::Confirm, None, _) => true,
            _ => false,
        };
        Box::pin(async move {
            if wrong_code {
                return Err(Error::InvalidCode { expired: false });
            }
            Ok(ResetOutcome {
                must_change_at_next_sign_in: !matches!(mode, Mode::Set | Mode::Confirm),
                password: (mode == Mode::Generate).then(|| SecretString::from(GENERATED)),
                expires_at: None,
                delivery: (mode == Mode::Code).then_some(Delivery::VerifiedContact),
            })
        })
    }
}

/// An event bus that keeps what it is given (and can be made to fail).
#[derive(Clone, Default)]
pub struct RecordingBus {
    events: Arc<Mutex<Vec<serde_json::Value>>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl RecordingBus {
    /// The events published so far, in order.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes publishing fail (`true`) or work again.
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl crate::EventBus for RecordingBus {
    fn publish<'a>(&'a self, detail: String) -> BoxFuture<'a, Result<(), String>> {
        let result = if self.failing.load(Ordering::SeqCst) {
            Err("the bus is down".to_owned())
        } else {
            match serde_json::from_str(&detail) {
                Ok(event) => {
                    self.events
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(event);
                    Ok(())
                }
                Err(error) => Err(format!("not JSON: {error}")),
            }
        };
        Box::pin(async move { result })
    }
}

/// A mailer that keeps what it is given: (to, subject, body).
#[derive(Clone, Default)]
pub struct RecordingMailer {
    sent: Arc<Mutex<Vec<(String, String, String)>>>,
}

impl RecordingMailer {
    /// The messages sent so far: (to, subject, body).
    pub fn sent(&self) -> Vec<(String, String, String)> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl crate::Mailer for RecordingMailer {
    fn send<'a>(
        &'a self,
        to: &'a str,
        subject: String,
        body: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((to.to_owned(), subject, body));
        Box::pin(async { Ok(()) })
    }
}

//! An in-memory [`Store`] with the DynamoDB store's semantics (the same liveness rule), for
//! unit tests of the state machine and the use case; integration tests use a real DynamoDB
//! engine.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::{Counter, Liveness, Put, Record, Status, Store, StoreError, StoredResponse};
use crate::BoxFuture;

/// Records and counters in memory.
#[derive(Clone, Default)]
pub struct MemoryStore {
    /// The records by id.
    pub records: Arc<Mutex<HashMap<String, Record>>>,
    /// The counters by id.
    pub counters: Arc<Mutex<HashMap<String, u32>>>,
    /// Return the old record with a failed condition (DynamoDB) or not (dynalite).
    pub return_old: bool,
}

impl MemoryStore {
    /// A store that returns the old record with a failed condition, as DynamoDB does.
    pub fn returning_old() -> Self {
        Self {
            return_old: true,
            ..Self::default()
        }
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    fn put_if_absent<'a>(
        &'a self,
        record: &'a Record,
        counters: &'a [Counter],
        now_secs: u64,
        now_millis: u64,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        let mut records = self.records();
        let mut counts = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        // The one liveness rule (record.rs), as DynamoDB's condition applies it.
        let claimable = records.get(&record.id).is_none_or(|old| {
            old.liveness(&record.fingerprint, now_secs, now_millis) == Liveness::Dead
        });
        let full = counters
            .iter()
            .find(|c| counts.get(&c.id).copied().unwrap_or(0) >= c.limit);
        let result = if !claimable {
            Put::Exists(records.get(&record.id).cloned().filter(|_| self.return_old))
        } else if let Some(full) = full {
            Put::Limited {
                retry_after_secs: full.retry_after_secs,
            }
        } else {
            records.insert(record.id.clone(), record.clone());
            for counter in counters {
                *counts.entry(counter.id.clone()).or_default() += 1;
            }
            Put::Written
        };
        Box::pin(async move { Ok(result) })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        let record = self.records().get(id).cloned();
        Box::pin(async move { Ok(record) })
    }

    fn complete<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        response: &'a StoredResponse,
        expiration: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = match self.records().get_mut(id) {
            Some(record) if record.claim == claim => {
                record.status = Status::Completed;
                record.expiration = expiration;
                record.response = Some(response.clone());
                Ok(())
            }
            _ => Err(StoreError::Lost),
        };
        Box::pin(async { result })
    }

    fn delete<'a>(&'a self, id: &'a str, claim: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut records = self.records();
        let result = match records.get(id) {
            Some(record) if record.claim == claim => {
                records.remove(id);
                Ok(())
            }
            _ => Err(StoreError::Lost),
        };
        Box::pin(async { result })
    }

    fn mark_unknown<'a>(
        &'a self,
        id: &'a str,
        claim: &'a str,
        attempted_at: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = match self.records().get_mut(id) {
            Some(record) if record.claim == claim => {
                record.status = Status::Unknown;
                record.attempted_at = Some(attempted_at);
                Ok(())
            }
            _ => Err(StoreError::Lost),
        };
        Box::pin(async { result })
    }

    fn take_over<'a>(
        &'a self,
        record: &'a Record,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        let mut records = self.records();
        let claim = match records.get(&record.id) {
            Some(old) if old.status != Status::Completed && old.claim == previous => {
                records.insert(record.id.clone(), record.clone());
                Put::Written
            }
            _ => Put::Busy,
        };
        Box::pin(async move { Ok(claim) })
    }

    fn count<'a>(&'a self, counter: &'a Counter) -> BoxFuture<'a, Result<Put, StoreError>> {
        let mut counts = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(counter.id.clone()).or_default();
        let result = if *count >= counter.limit {
            Put::Limited {
                retry_after_secs: counter.retry_after_secs,
            }
        } else {
            *count += 1;
            Put::Written
        };
        Box::pin(async move { Ok(result) })
    }
}

//! Counting (and, on request, failing) AWS calls on the wire, as an SDK interceptor: the real
//! request is serialised and signed, and counted just before it is sent.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextRef,
};

/// Calls per operation name (`PutItem`, `AdminSetUserPassword`, ...).
#[derive(Debug, Clone, Default)]
pub struct Calls {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    failing: Arc<Mutex<HashSet<String>>>,
}

impl Calls {
    /// How many `operation` requests were sent.
    pub fn count(&self, operation: &str) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// All requests sent.
    pub fn total(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Forgets the counts.
    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Makes every later `operation` request fail before it is sent.
    pub fn fail(&self, operation: &str) {
        self.failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(operation.to_owned());
    }
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "CountingCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        *self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(operation.clone())
            .or_default() += 1;
        if self
            .failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&operation)
        {
            return Err(format!("injected failure of {operation}").into());
        }
        Ok(())
    }
}

//! The check's report: PASS, WARN or FAIL per check, with the reason, per target.

use serde::Serialize;
use serde_json::{Value, json};

/// A check's verdict. A section's status is its worst check's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// As it should be.
    Pass,
    /// Works, with a weakness or something the check could not see; never fails the run.
    Warn,
    /// Unsafe or broken: the run exits 254.
    Fail,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub status: Status,
    pub reason: String,
}

impl Finding {
    pub fn pass(check: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Pass,
            reason: reason.into(),
        }
    }
    pub fn warn(check: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Warn,
            reason: reason.into(),
        }
    }
    pub fn fail(check: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Fail,
            reason: reason.into(),
        }
    }
}

/// The checks of one target (or of the deployment as a whole).
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub name: String,
    pub service: Option<String>,
    pub findings: Vec<Finding>,
}

impl Section {
    /// The worst status of its findings (PASS when it has none).
    pub fn status(&self) -> Status {
        self.findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Pass)
    }

    fn to_json(&self) -> Value {
        let mut value = json!({
            "status": self.status(),
            "checks": self.findings,
        });
        match &self.service {
            Some(service) => {
                value["target"] = json!(self.name);
                value["service"] = json!(service);
            }
            None => value["name"] = json!(self.name),
        }
        value
    }
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub deployment: Section,
    pub targets: Vec<Section>,
}

impl Report {
    fn all(&self) -> impl Iterator<Item = &Finding> {
        self.deployment
            .findings
            .iter()
            .chain(self.targets.iter().flat_map(|t| t.findings.iter()))
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.all().any(|f| f.status == Status::Fail)
    }

    /// The report as the CLI prints it (before `--query` and `--output`).
    pub fn to_json(&self) -> Value {
        let count = |status| self.all().filter(|f| f.status == status).count();
        let overall = self.all().map(|f| f.status).max().unwrap_or(Status::Pass);
        json!({
            "status": overall,
            "summary": {"pass": count(Status::Pass), "warn": count(Status::Warn), "fail": count(Status::Fail)},
            "deployment": self.deployment.to_json(),
            "targets": self.targets.iter().map(Section::to_json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_check_decides() {
        let report = Report {
            deployment: Section {
                name: "deployment".into(),
                service: None,
                findings: vec![Finding::pass("document", "valid")],
            },
            targets: vec![Section {
                name: "app-users".into(),
                service: Some("cognito".into()),
                findings: vec![Finding::pass("userPool", "exists"), Finding::warn("x", "y")],
            }],
        };
        assert!(!report.failed());
        let json = report.to_json();
        assert_eq!(json["status"], "WARN");
        assert_eq!(json["summary"], json!({"pass": 2, "warn": 1, "fail": 0}));
        assert_eq!(json["targets"][0]["target"], "app-users");
        assert_eq!(json["targets"][0]["status"], "WARN");
        assert_eq!(json["deployment"]["status"], "PASS");

        let mut failing = report.clone();
        failing.targets[0]
            .findings
            .push(Finding::fail("z", "broken"));
        assert!(failing.failed());
        assert_eq!(failing.to_json()["status"], "FAIL");
    }
}

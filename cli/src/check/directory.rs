//! Directory Service: the directory exists and is Active, its type suits the target, and
//! Directory Service Data is enabled where `refuseDisabled` needs it (docs/CONFIG.md,
//! `refuseDisabled`).

use aws_sdk_directory::Client;

use super::{
    aws::{CallError, call_error},
    report::Finding,
};

/// What DescribeDirectories says of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryFacts {
    /// `MicrosoftAD`, `SimpleAD`, `ADConnector`, `SharedMicrosoftAD`.
    pub kind: String,
    /// `Active`, `Creating`, `Impaired`, ...
    pub stage: String,
    /// The directory's DNS name.
    pub name: String,
}

/// DescribeDirectories for one directory (`Ok(None)`: it does not exist).
pub async fn describe(
    client: &Client,
    directory_id: &str,
) -> Result<Option<DirectoryFacts>, CallError> {
    match client
        .describe_directories()
        .directory_ids(directory_id)
        .send()
        .await
    {
        Ok(answer) => Ok(answer
            .directory_descriptions()
            .first()
            .map(|d| DirectoryFacts {
                kind: d
                    .r#type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                stage: d.stage().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                name: d.name().unwrap_or_default().to_owned(),
            })),
        Err(error) => {
            let error = call_error(error);
            if error.is_not_found() {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// DescribeDirectoryDataAccess: `Enabled`, `Disabled`, `Enabling`, `Disabling`, `Failed`.
pub async fn data_access(client: &Client, directory_id: &str) -> Result<String, CallError> {
    client
        .describe_directory_data_access()
        .directory_id(directory_id)
        .send()
        .await
        .map(|a| {
            a.data_access_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default()
        })
        .map_err(call_error)
}

/// The directory exists and is Active.
pub fn directory_finding(directory_id: &str, facts: Option<&DirectoryFacts>) -> Finding {
    const CHECK: &str = "directory";
    match facts {
        None => Finding::fail(
            CHECK,
            format!("directory {directory_id} does not exist in this account and region"),
        ),
        Some(f) if f.stage == "Active" => Finding::pass(
            CHECK,
            format!(
                "directory {directory_id} ({}, {}) is Active",
                f.name, f.kind
            ),
        ),
        Some(f) => Finding::fail(
            CHECK,
            format!(
                "directory {directory_id} is {}, not Active: resets would fail",
                f.stage
            ),
        ),
    }
}

/// Whether the directory's type can work with the target's `refuseDisabled`, and whether
/// Directory Service Data must be asked about.
pub fn type_finding(directory_id: &str, kind: &str, refuse_disabled: bool) -> (Finding, bool) {
    const CHECK: &str = "directoryType";
    match (kind, refuse_disabled) {
        ("MicrosoftAD", true) => (
            Finding::pass(
                CHECK,
                "Managed Microsoft AD, with refuseDisabled: the account is read before a reset",
            ),
            true,
        ),
        ("MicrosoftAD", false) => (
            Finding::warn(
                CHECK,
                "Managed Microsoft AD with refuseDisabled false: a reset re-enables a disabled account and privileged accounts are not checked. Enable Directory Service Data and remove refuseDisabled",
            ),
            false,
        ),
        ("SimpleAD", true) => (
            Finding::fail(
                CHECK,
                "Simple AD has no Directory Service Data, so with refuseDisabled (the default) every request answers 500 INTERNAL. Set \"refuseDisabled\": false, and accept that a reset enables a disabled account",
            ),
            false,
        ),
        ("SimpleAD", false) => (
            Finding::warn(
                CHECK,
                "Simple AD with refuseDisabled false: a reset enables a disabled account, and only the built-in and listed names are refused (no group check)",
            ),
            false,
        ),
        ("ADConnector", _) => (
            Finding::fail(
                CHECK,
                format!(
                    "{directory_id} is an AD Connector: Directory Service ResetUserPassword works on Managed Microsoft AD and Simple AD only"
                ),
            ),
            false,
        ),
        (other, _) => (
            Finding::warn(
                CHECK,
                format!(
                    "{directory_id} is a {other} directory: resetgate is tested with Managed Microsoft AD and Simple AD"
                ),
            ),
            refuse_disabled,
        ),
    }
}

/// Directory Service Data, where `refuseDisabled` needs it.
pub fn data_access_finding(directory_id: &str, status: Result<&str, &CallError>) -> Finding {
    const CHECK: &str = "directoryData";
    let fix = format!("aws ds enable-directory-data-access --directory-id {directory_id}");
    match status {
        Ok("Enabled") => Finding::pass(CHECK, "Directory Service Data is enabled"),
        Ok("Enabling") => Finding::warn(
            CHECK,
            "Directory Service Data is being enabled: wait until it is Enabled before go-live",
        ),
        Ok(status) => Finding::fail(
            CHECK,
            format!(
                "Directory Service Data is {status}: with refuseDisabled every request answers 500 INTERNAL. Run `{fix}`"
            ),
        ),
        Err(error) => Finding::fail(CHECK, error.could_not("DescribeDirectoryDataAccess")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{aws::Kind, report::Status};

    #[test]
    fn the_directory_must_exist_and_be_active() {
        let active = DirectoryFacts {
            kind: "MicrosoftAD".into(),
            stage: "Active".into(),
            name: "corp.example.com".into(),
        };
        assert_eq!(directory_finding("d-1", Some(&active)).status, Status::Pass);
        let impaired = DirectoryFacts {
            stage: "Impaired".into(),
            ..active
        };
        let finding = directory_finding("d-1", Some(&impaired));
        assert_eq!(finding.status, Status::Fail);
        assert!(finding.reason.contains("is Impaired"));
        assert_eq!(directory_finding("d-1", None).status, Status::Fail);
    }

    #[test]
    fn the_type_must_suit_refuse_disabled() {
        let cases = [
            ("MicrosoftAD", true, Status::Pass, true),
            ("MicrosoftAD", false, Status::Warn, false),
            ("SimpleAD", true, Status::Fail, false),
            ("SimpleAD", false, Status::Warn, false),
            ("ADConnector", true, Status::Fail, false),
            ("SharedMicrosoftAD", true, Status::Warn, true),
        ];
        for (kind, refuse, status, ask) in cases {
            let (finding, ask_data) = type_finding("d-1", kind, refuse);
            assert_eq!(
                (finding.status, ask_data),
                (status, ask),
                "{kind} {refuse}: {}",
                finding.reason
            );
        }
    }

    #[test]
    fn directory_service_data_must_be_enabled() {
        assert_eq!(
            data_access_finding("d-1", Ok("Enabled")).status,
            Status::Pass
        );
        assert_eq!(
            data_access_finding("d-1", Ok("Enabling")).status,
            Status::Warn
        );
        let disabled = data_access_finding("d-1234567890", Ok("Disabled"));
        assert_eq!(disabled.status, Status::Fail);
        assert!(
            disabled
                .reason
                .contains("aws ds enable-directory-data-access --directory-id d-1234567890")
        );
        let error = CallError {
            code: None,
            kind: Kind::Denied,
            message: "AccessDenied".into(),
        };
        assert_eq!(data_access_finding("d-1", Err(&error)).status, Status::Fail);
    }
}

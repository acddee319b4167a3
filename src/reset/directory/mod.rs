//! AWS Directory Service (Managed Microsoft AD, Simple AD): `ResetUserPassword`, modes `set`
//! and `generate`.
//!
//! `ResetUserPassword` **enables a disabled account** (AWS behaviour): a reset would quietly
//! bring back an account someone switched off, for example a leaver's. So by default
//! (`refuseDisabled`, on unless the target turns it off) the adapter first asks Directory
//! Service Data `DescribeUser` and refuses a disabled account with `TARGET_NOT_ELIGIBLE`. That
//! API must be enabled on the directory (Managed Microsoft AD); Simple AD has no Directory
//! Service Data, so a Simple AD target must set `refuseDisabled: false` and accept the AWS
//! behaviour (documented in `docs/CONFIG.md`). There is no "must change at next logon" in the
//! API: `mustChangeAtNextSignIn` is always false.
//!
//! The same read gives the account's canonical `SAMAccountName` and, for an admin request, its
//! groups (`ListGroupsForMember`): direct memberships, then the groups of those groups, breadth
//! first, until a privileged group is found, the read deadline passes, or
//! `MAX_GROUP_LOOKUPS` lookups were made; `docs/SECURITY.md` says what that walk does not
//! cover. When Directory Service Data cannot be used as configured (Simple AD:
//! `ValidationException` `INVALID_DIRECTORY_TYPE`; not enabled: `AccessDeniedException`
//! `DATA_DISABLED`) the target fails closed: `INTERNAL`, and an ERROR line with the fix.

use serde::Deserialize;

use super::{Backend, Capabilities, Mode, ResetAdapter, check_username_rules, is_invisible_format};
use crate::{
    aws::Clients,
    error::{Error, InitError},
};

mod adapter;

pub use adapter::DirectoryAdapter;

/// The back-end's name in logs.
const SERVICE: &str = "directory";

/// What a directory can do: `generate` and `set` (`ResetUserPassword` has no code flow);
/// `NewPassword` up to 127 code points; no client metadata. Always protected, whatever the
/// operator lists: AD's built-in `Administrator`, AWS Managed Microsoft AD's customer
/// administrator `Admin` (AWS documents resetting it with `ResetUserPassword`), the Kerberos
/// service account and `Guest`. Always privileged (where groups are read): the built-in
/// administrator groups and AWS's delegated one. Names compare as AD compares them.
pub const CAPABILITIES: Capabilities = Capabilities {
    name: SERVICE,
    modes: &[Mode::Generate, Mode::Set],
    max_password_chars: 127,
    client_metadata: false,
    protected_names: &["Administrator", "Admin", "krbtgt", "Guest"],
    privileged_groups: &[
        "Domain Admins",
        "Enterprise Admins",
        "Schema Admins",
        "Administrators",
        "AWS Delegated Administrators",
    ],
    folded_names: true,
};

/// A directory target's keys in the configuration document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The directory, e.g. `d-1234567890`.
    #[serde(default)]
    pub directory_id: String,
    /// Refuse to reset a disabled account (`ResetUserPassword` would enable it), checked with
    /// Directory Service Data `DescribeUser`; also what reads groups. On unless turned off.
    #[serde(default = "refuse_disabled_default")]
    pub refuse_disabled: bool,
}

fn refuse_disabled_default() -> bool {
    true
}

impl Backend for Settings {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    /// `DirectoryId`: `^d-[0-9a-f]{10}$` (Directory Service API reference).
    fn validate(&self) -> Result<(), String> {
        if self.directory_id.is_empty() {
            return Err("directoryId is required".into());
        }
        let id = &self.directory_id;
        let valid = id.len() == 12
            && id.starts_with("d-")
            && id[2..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if valid {
            Ok(())
        } else {
            Err(format!("directoryId {id:?} must match ^d-[0-9a-f]{{10}}$"))
        }
    }

    /// Groups are read with Directory Service Data, so only with `refuseDisabled`.
    fn reads_groups(&self) -> Result<(), &'static str> {
        if self.refuse_disabled {
            Ok(())
        } else {
            Err(
                "protectedGroups needs refuseDisabled: true (Directory Service Data reads the groups)",
            )
        }
    }

    /// `UserName`: 1-64 characters, none of `\ " / [ ] : ; | = , + * ? < > @`. Also refused,
    /// before any call: control and invisible formatting characters, white space other than a
    /// single inner space (NBSP, tabs), and leading, trailing or repeated spaces. The directory
    /// would fold those away (Samba behind Simple AD does), so `"Administrator "` would name
    /// `Administrator` past any list compared as typed.
    fn check_username(&self, username: &str) -> Result<(), Error> {
        const MESSAGE: &str = "The username is not a valid directory user name.";
        check_username_rules(
            username,
            64,
            |c: char| {
                !c.is_control()
                    && !FORBIDDEN_IN_USERNAME.contains(&c)
                    && (c == ' ' || !c.is_whitespace())
                    && !is_invisible_format(c)
            },
            MESSAGE,
        )?;
        if username.starts_with(' ') || username.ends_with(' ') || username.contains("  ") {
            return Err(Error::invalid(MESSAGE));
        }
        // Without Directory Service Data nothing tells the directory's own spelling of a name,
        // and Active Directory compares names ignoring width and diacritics: `Ａｄｍｉｎ` or
        // `Ádmin` would be `Admin` past a list compared as typed. Such a target takes ASCII
        // names only.
        if !self.refuse_disabled && !username.is_ascii() {
            return Err(Error::invalid(
                "This directory target reads no account data: the username must be ASCII.",
            ));
        }
        Ok(())
    }

    fn adapter(
        &self,
        _target: &str,
        clients: &mut Clients<'_>,
    ) -> Result<Box<dyn ResetAdapter>, InitError> {
        Ok(Box::new(DirectoryAdapter::from_settings(self, clients)))
    }
}

/// Characters `UserName` may not contain (Directory Service API reference, `ResetUserPassword`).
const FORBIDDEN_IN_USERNAME: &[char] = &[
    '\\', '"', '/', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        let adapter = Settings {
            directory_id: "d-1234567890".into(),
            refuse_disabled: true,
        };
        let adapter_without_data = Settings {
            refuse_disabled: false,
            ..adapter.clone()
        };
        for good in [
            "alice",
            "Alice.Smith",
            "a b",
            "Alice van Dijk",
            "ünïcødé",
            &"x".repeat(64),
        ] {
            assert!(adapter.check_username(good).is_ok(), "{good}");
        }
        // Without Directory Service Data the directory's spelling is unknown, and AD ignores
        // width and diacritics: look-alikes of Admin never reach it.
        for look_alike in ["Ａｄｍｉｎ", "Ádmin", "ｋｒｂｔｇｔ", "ünïcødé"] {
            assert!(
                adapter_without_data.check_username(look_alike).is_err(),
                "{look_alike}"
            );
        }
        assert!(adapter_without_data.check_username("alice").is_ok());
        for bad in [
            "",
            "a@b",
            "a/b",
            "a\\b",
            "a,b",
            "a+b",
            "a*b",
            "a?b",
            "a<b",
            "a>b",
            "a;b",
            "a:b",
            "a|b",
            "a=b",
            "a[b]",
            "a\"b",
            "nul\0",
            &"x".repeat(65),
            // What Samba folds away: each names Administrator on Simple AD.
            "Administrator ",
            " Administrator",
            "Admin  istrator",
            "Administrator\u{00A0}",
            "Admin\u{00A0}istrator",
            "Administrator\t",
            "Adminis\u{200B}trator",
            "\u{FEFF}Administrator",
        ] {
            assert!(adapter.check_username(bad).is_err(), "{bad:?}");
        }
    }
}

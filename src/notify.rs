//! Telling the user: after a successful `generate`, `set` (or confirmed code), an e-mail
//! through SES to the address the back-end holds, saying what happened, when, from which
//! address, whether an admin did it, and whom to call if it was not them. Never a password.
//! Best-effort: a failure is logged (`metric: NotificationFailures`) and never answered.
//! `code` sends nothing: Cognito mails the code itself.

use crate::{BoxFuture, error::InitError};

/// The `notifications` part of the configuration document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotificationsConfig {
    /// The sender: an address of a verified SES identity.
    pub from_address: String,
    /// Whom the user calls if it was not them (a helpdesk's number or address), in the text.
    pub contact: String,
}

impl NotificationsConfig {
    /// The sender looks like an address; the contact is there.
    pub fn validate(&self) -> Result<(), InitError> {
        let valid_from = self
            .from_address
            .split_once('@')
            .is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !self.from_address.contains(char::is_whitespace)
            });
        if !valid_from {
            return Err(InitError::Config(format!(
                "notifications.fromAddress {:?} is not an e-mail address",
                self.from_address
            )));
        }
        if self.contact.trim().is_empty() {
            return Err(InitError::Config(
                "notifications.contact must say whom the user calls if the reset was not theirs"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// What happened, for the message.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    /// The target's name.
    pub target: &'a str,
    /// The account's name there.
    pub username: &'a str,
    /// `generate` or `set` (or `confirm`).
    pub mode: &'a str,
    /// When, as RFC 3339 UTC.
    pub at: &'a str,
    /// The client address API Gateway saw.
    pub source_ip: Option<&'a str>,
    /// Whether an admin (helpdesk) made the change.
    pub by_admin: bool,
    /// Whom to call.
    pub contact: &'a str,
}

/// The message's subject and plain-text body. It names no password, ever: it is built from
/// this [`Notice`], which holds none.
pub fn message(notice: &Notice<'_>) -> (String, String) {
    let what = match notice.mode {
        "generate" => "a new temporary password was issued for your account",
        "confirm" => "the password of your account was changed with a reset code",
        _ => "the password of your account was changed",
    };
    let who = if notice.by_admin {
        "by a helpdesk administrator"
    } else {
        "by a request signed in as you"
    };
    let from = notice.source_ip.unwrap_or("an unknown address");
    let subject = format!("Your password on {} was reset", notice.target);
    let body = format!(
        "Hello {user},\n\n\
         On {at}, {what} on {target}, {who}, from {from}.\n\n\
         If this was you, there is nothing to do. Your other sessions have been signed out \
         where the system allows it.\n\n\
         If it was not you, contact {contact} at once.\n\n\
         This message was sent by resetgate. It never contains a password.\n",
        user = notice.username,
        at = notice.at,
        target = notice.target,
        contact = notice.contact,
    );
    (subject, body)
}

/// Where messages go.
pub trait Mailer: Send + Sync {
    /// Sends one plain-text message to `to`; the error is for the log.
    fn send<'a>(
        &'a self,
        to: &'a str,
        subject: String,
        body: String,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// SES (v2 `SendEmail`, simple content) from the configured sender.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    /// A mailer sending as `from` through `client`.
    pub fn new(client: aws_sdk_sesv2::Client, from: String) -> Self {
        Self { client, from }
    }
}

impl Mailer for SesMailer {
    fn send<'a>(
        &'a self,
        to: &'a str,
        subject: String,
        body: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        Box::pin(async move {
            let content = |text: String| {
                Content::builder()
                    .data(text)
                    .charset("UTF-8")
                    .build()
                    .map_err(|e| e.to_string())
            };
            let message = Message::builder()
                .subject(content(subject)?)
                .body(Body::builder().text(content(body)?).build())
                .build();
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(to).build())
                .content(EmailContent::builder().simple(message).build())
                .send()
                .await
                .map(drop)
                .map_err(|error| {
                    format!(
                        "SendEmail: {}",
                        aws_smithy_types::error::display::DisplayErrorContext(&error)
                    )
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(mode: &'static str, by_admin: bool) -> Notice<'static> {
        Notice {
            target: "app-users",
            username: "alice",
            mode,
            at: "2026-11-30T01:02:03Z",
            source_ip: Some("198.51.100.23"),
            by_admin,
            contact: "the IT helpdesk, +1 555 0100",
        }
    }

    #[test]
    fn the_message_says_what_when_where_who_and_whom_to_call() {
        let (subject, body) = message(&notice("generate", true));
        assert!(subject.contains("app-users"));
        for part in [
            "alice",
            "2026-11-30T01:02:03Z",
            "198.51.100.23",
            "helpdesk administrator",
            "temporary password was issued",
            "the IT helpdesk, +1 555 0100",
        ] {
            assert!(body.contains(part), "{part}: {body}");
        }
        let (_, own) = message(&notice("set", false));
        assert!(own.contains("signed in as you"), "{own}");
        assert!(own.contains("was changed"), "{own}");
    }

    #[test]
    fn a_sender_and_a_contact_are_required() {
        let good = NotificationsConfig {
            from_address: "no-reply@example.com".into(),
            contact: "the helpdesk".into(),
        };
        assert!(good.validate().is_ok());
        for bad in [
            "",
            "no-reply",
            "@example.com",
            "a b@example.com",
            "no-reply@localhost",
        ] {
            let config = NotificationsConfig {
                from_address: bad.into(),
                ..good.clone()
            };
            assert!(config.validate().is_err(), "{bad:?}");
        }
        let silent = NotificationsConfig {
            contact: " ".into(),
            ..good
        };
        assert!(silent.validate().is_err());
    }
}

//! `--generate-cli-skeleton`: the input document of each operation (its keys are the flags in
//! camelCase, never a password), as JSON or as YAML with comments, and the shape of its output.

use clap::ValueEnum;
use serde_json::Value;

use crate::input::Operation;

/// What `--generate-cli-skeleton` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SkeletonKind {
    /// The input document, as JSON for --cli-input-json.
    Input,
    /// The input document, as YAML for --cli-input-yaml, with comments.
    YamlInput,
    /// The shape of the output.
    Output,
}

/// The `--generate-cli-skeleton` text for `operation`.
pub fn skeleton(operation: Operation, kind: SkeletonKind) -> String {
    match (operation, kind) {
        (Operation::ListTargets, SkeletonKind::Input) => "{}\n".into(),
        (Operation::ListTargets, SkeletonKind::YamlInput) => "{}\n".into(),
        (Operation::ResetUserPassword, SkeletonKind::Input) => concat!(
            "{\n",
            "    \"target\": \"\",\n",
            "    \"userName\": \"\",\n",
            "    \"mode\": \"\",\n",
            "    \"clientToken\": \"\",\n",
            "    \"clientMetadata\": {}\n",
            "}\n"
        )
        .into(),
        (Operation::ResetUserPassword, SkeletonKind::YamlInput) => concat!(
            "target: '' # The target's name, as list-targets shows it. [REQUIRED]\n",
            "userName: '' # The account to reset. Remove this key to reset your own account (self-service).\n",
            "mode: '' # Valid values are: code, generate, set. With set, pipe the password to --password-stdin. [REQUIRED]\n",
            "clientToken: '' # The idempotency key. Remove this key and one is generated (and shown in the output).\n",
            "clientMetadata: {} # With mode code on Cognito targets only: strings for the user pool's Lambda triggers.\n",
        )
        .into(),
        (Operation::ConfirmPasswordReset, SkeletonKind::Input) => concat!(
            "{\n",
            "    \"target\": \"\",\n",
            "    \"code\": \"\",\n",
            "    \"clientToken\": \"\"\n",
            "}\n"
        )
        .into(),
        (Operation::ConfirmPasswordReset, SkeletonKind::YamlInput) => concat!(
            "target: '' # The target's name, as list-targets shows it. [REQUIRED]\n",
            "code: '' # The code Cognito sent. The new password is piped to --password-stdin. [REQUIRED]\n",
            "clientToken: '' # The idempotency key. Remove this key and one is generated (and shown in the output).\n",
        )
        .into(),
        (operation, SkeletonKind::Output) => {
            let value = output_skeleton(operation);
            let mut text = serde_json::to_string_pretty(&value).expect("a JSON value");
            text.push('\n');
            text
        }
    }
}

/// The shape of an operation's output (strings as "string", booleans as true).
pub fn output_skeleton(operation: Operation) -> Value {
    use serde_json::json;
    match operation {
        Operation::ListTargets => json!({"targets": [
            {"name": "string", "service": "string", "modes": ["string"], "self": true, "admin": true, "confirm": true}
        ]}),
        Operation::ResetUserPassword => json!({
            "target": "string", "username": "string", "mode": "string",
            "mustChangeAtNextSignIn": true, "password": "string", "expiresAt": "string",
            "delivery": "string", "passwordDelivered": "string", "sessionsRevoked": true,
            "replayed": true, "clientToken": "string"
        }),
        Operation::ConfirmPasswordReset => json!({
            "target": "string", "username": "string", "mode": "string",
            "mustChangeAtNextSignIn": true, "sessionsRevoked": true, "replayed": true,
            "clientToken": "string"
        }),
    }
}

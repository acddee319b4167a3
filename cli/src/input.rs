//! A command's input: its flags, `--cli-input-json` / `--cli-input-yaml` (inline or
//! `file://PATH`), and `--generate-cli-skeleton`, as the AWS CLI has them.
//!
//! The input document's keys are the flags in camelCase (`target`, `userName`, `mode`,
//! `clientToken`, `clientMetadata`; `code` for confirm-password-reset). Explicit flags override
//! its values, key by key. A password is never one of them: it is read from standard input with
//! `--password-stdin` only, so it is in no file, no shell history and no process list.

use std::collections::BTreeMap;

use clap::ValueEnum;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::{exit::Failure, token::Stdin};

/// The API's operations, named as the AWS CLI would name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListTargets,
    ResetUserPassword,
    ConfirmPasswordReset,
}

impl Operation {
    /// The name errors and tables use.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListTargets => "ListTargets",
            Self::ResetUserPassword => "ResetUserPassword",
            Self::ConfirmPasswordReset => "ConfirmPasswordReset",
        }
    }

    /// The keys of its input document.
    pub fn input_keys(self) -> &'static [&'static str] {
        match self {
            Self::ListTargets => &[],
            Self::ResetUserPassword => &[
                "target",
                "userName",
                "mode",
                "clientToken",
                "clientMetadata",
            ],
            Self::ConfirmPasswordReset => &["target", "code", "clientToken"],
        }
    }
}

/// A reset mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Cognito sends the user a code (202).
    Code,
    /// A generated (or FinSpace's temporary) password, returned once.
    Generate,
    /// The password given on standard input (--password-stdin).
    Set,
}

impl Mode {
    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Generate => "generate",
            Self::Set => "set",
        }
    }
}

/// `VALUE` or `file://PATH` (the file's contents), as the AWS CLI reads parameter values.
pub fn value_or_file(spec: &str, flag: &str) -> Result<String, Failure> {
    match spec.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("{flag}: cannot read {path}: {e}"))),
        None => Ok(spec.to_owned()),
    }
}

/// The `--cli-input-json` or `--cli-input-yaml` document, as an object (none if neither).
pub fn read_document(
    json: Option<&str>,
    yaml: Option<&str>,
) -> Result<Option<Map<String, Value>>, Failure> {
    let (flag, parsed) = match (json, yaml) {
        (Some(_), Some(_)) => {
            return Err(Failure::Usage(
                "give --cli-input-json or --cli-input-yaml, not both".into(),
            ));
        }
        (Some(spec), None) => {
            let text = value_or_file(spec, "--cli-input-json")?;
            let parsed = serde_json::from_str::<Value>(&text).map_err(|e| e.to_string());
            ("--cli-input-json", parsed)
        }
        (None, Some(spec)) => {
            let text = value_or_file(spec, "--cli-input-yaml")?;
            let parsed = serde_norway::from_str::<Value>(&text).map_err(|e| e.to_string());
            ("--cli-input-yaml", parsed)
        }
        (None, None) => return Ok(None),
    };
    match parsed {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(Value::Null) => Ok(Some(Map::new())),
        Ok(_) => Err(Failure::Usage(format!(
            "{flag}: the input must be an object"
        ))),
        Err(error) => Err(Failure::Usage(format!(
            "{flag}: the input is not valid: {error}"
        ))),
    }
}

/// The document's values for `operation`, refusing unknown keys and any password.
pub fn from_document<T: DeserializeOwned + Default>(
    document: Option<Map<String, Value>>,
    operation: Operation,
) -> Result<T, Failure> {
    let Some(document) = document else {
        return Ok(T::default());
    };
    let keys = operation.input_keys();
    for key in document.keys() {
        if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("newPassword") {
            return Err(Failure::Usage(
                "a password is never read from --cli-input-json or --cli-input-yaml: pipe it to --password-stdin".into(),
            ));
        }
        if !keys.contains(&key.as_str()) {
            let known = if keys.is_empty() {
                "this operation takes no input".to_owned()
            } else {
                format!("must be one of: {}", keys.join(", "))
            };
            return Err(Failure::Usage(format!(
                "Unknown parameter in input: \"{key}\", {known}"
            )));
        }
    }
    serde_json::from_value(Value::Object(document))
        .map_err(|e| Failure::Usage(format!("Invalid input for {}: {e}", operation.name())))
}

/// Input of reset-user-password: from the flags or the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResetInput {
    pub target: Option<String>,
    pub user_name: Option<String>,
    pub mode: Option<Mode>,
    pub client_token: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl ResetInput {
    /// Flags (`self`) override the document, key by key.
    pub fn over(self, document: Self) -> Self {
        Self {
            target: self.target.or(document.target),
            user_name: self.user_name.or(document.user_name),
            mode: self.mode.or(document.mode),
            client_token: self.client_token.or(document.client_token),
            client_metadata: self.client_metadata.or(document.client_metadata),
        }
    }
}

/// Input of confirm-password-reset: from the flags or the document. `Debug` hides the code.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfirmInput {
    pub target: Option<String>,
    pub code: Option<String>,
    pub client_token: Option<String>,
}

impl std::fmt::Debug for ConfirmInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmInput")
            .field("target", &self.target)
            .field("code", &self.code.as_ref().map(|_| "[REDACTED]"))
            .field("client_token", &self.client_token)
            .finish()
    }
}

impl ConfirmInput {
    /// Flags (`self`) override the document, key by key.
    pub fn over(self, document: Self) -> Self {
        Self {
            target: self.target.or(document.target),
            code: self.code.or(document.code),
            client_token: self.client_token.or(document.client_token),
        }
    }
}

/// An idempotency key, given or generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken {
    pub value: String,
    /// Made by the CLI (shown in the output so a retry can reuse it).
    pub generated: bool,
}

impl ClientToken {
    /// The given token, checked as the API checks it, or a new one.
    pub fn given_or_new(given: Option<String>) -> Result<Self, Failure> {
        match given {
            Some(value) => {
                validate_client_token(&value).map_err(Failure::Usage)?;
                Ok(Self {
                    value,
                    generated: false,
                })
            }
            None => Ok(Self {
                value: new_client_token(),
                generated: true,
            }),
        }
    }
}

/// 1-128 visible ASCII characters without a comma (docs/API.md, "Idempotency key").
pub fn validate_client_token(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("clientToken must not be empty: leave it out and one is generated".into());
    }
    if value.len() > 128 {
        return Err("clientToken must be at most 128 characters".into());
    }
    if !value.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
        return Err("clientToken must be visible ASCII characters (! to ~) without a comma".into());
    }
    Ok(())
}

/// A UUID v4 (RFC 9562 section 5.4): 122 random bits from the thread's CSPRNG (ChaCha seeded by
/// the operating system), as the API asks: a fresh UUID per user action.
pub fn new_client_token() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `--client-metadata`: a JSON object of strings (inline or `file://`), or the AWS CLI's
/// shorthand `key1=value1,key2=value2`.
pub fn parse_client_metadata(spec: &str) -> Result<BTreeMap<String, String>, Failure> {
    let text = value_or_file(spec, "--client-metadata")?;
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| {
            Failure::Usage(format!(
                "--client-metadata must be a JSON object of strings: {e}"
            ))
        });
    }
    let mut map = BTreeMap::new();
    for pair in trimmed.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--client-metadata: {pair:?} is not key=value (or give a JSON object)"
            )));
        };
        map.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(map)
}

/// A reset, checked and ready to send.
#[derive(Debug)]
pub struct ResetRequest {
    pub target: String,
    /// `None`: the caller's own account (self-service).
    pub user_name: Option<String>,
    pub mode: Mode,
    pub password: Option<SecretString>,
    pub client_token: ClientToken,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl ResetRequest {
    /// Checks the merged input. `password_stdin` says whether `--password-stdin` was given (the
    /// password is read only after every other check passed).
    pub fn check(input: ResetInput, password_stdin: bool) -> Result<Self, Failure> {
        let target = required_text(input.target, "--target")?;
        if input.user_name.as_deref() == Some("") {
            return Err(Failure::Usage(
                "userName must not be empty: leave the key out to reset your own account".into(),
            ));
        }
        let mode = input.mode.ok_or_else(|| {
            Failure::Usage(
                "the following argument is required: --mode (code, generate or set)".into(),
            )
        })?;
        match (mode, password_stdin) {
            (Mode::Set, false) => {
                return Err(Failure::Usage(
                    "--mode set needs --password-stdin: the password is read from standard input, never from the command line".into(),
                ));
            }
            (Mode::Code | Mode::Generate, true) => {
                return Err(Failure::Usage(format!(
                    "--password-stdin goes with --mode set only (--mode {} takes no password)",
                    mode.as_str()
                )));
            }
            _ => {}
        }
        let client_metadata = input.client_metadata.filter(|m| !m.is_empty());
        if client_metadata.is_some() && mode != Mode::Code {
            return Err(Failure::Usage(
                "--client-metadata goes with --mode code only (it is passed to the user pool's Lambda triggers with the code)".into(),
            ));
        }
        let client_token = ClientToken::given_or_new(input.client_token)?;
        Ok(Self {
            target,
            user_name: input.user_name,
            mode,
            password: None,
            client_token,
            client_metadata,
        })
    }

    /// The request body (the idempotency key goes in the header).
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("mode".into(), Value::String(self.mode.as_str().into()));
        if let Some(password) = &self.password {
            body.insert(
                "password".into(),
                Value::String(password.expose_secret().to_owned()),
            );
        }
        if let Some(metadata) = &self.client_metadata {
            body.insert(
                "clientMetadata".into(),
                Value::Object(
                    metadata
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
        Value::Object(body)
    }
}

/// A confirmation, checked and ready to send. `Debug` hides the code and the password.
pub struct ConfirmRequest {
    pub target: String,
    pub code: SecretString,
    pub password: SecretString,
    pub client_token: ClientToken,
}

impl std::fmt::Debug for ConfirmRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmRequest")
            .field("target", &self.target)
            .field("code", &"[REDACTED]")
            .field("password", &"[REDACTED]")
            .field("client_token", &self.client_token)
            .finish()
    }
}

impl ConfirmRequest {
    /// Checks the merged input; the password is read afterwards.
    pub fn check(input: ConfirmInput) -> Result<(String, SecretString, ClientToken), Failure> {
        let target = required_text(input.target, "--target")?;
        let code = input
            .code
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| Failure::Usage("the following argument is required: --code".into()))?;
        let client_token = ClientToken::given_or_new(input.client_token)?;
        Ok((target, SecretString::from(code), client_token))
    }

    /// `{"code", "password"}`.
    pub fn body(&self) -> Value {
        serde_json::json!({
            "code": self.code.expose_secret(),
            "password": self.password.expose_secret(),
        })
    }
}

fn required_text(value: Option<String>, flag: &str) -> Result<String, Failure> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(Failure::Usage(format!(
            "{} must not be empty",
            flag.trim_start_matches('-')
        ))),
        None => Err(Failure::Usage(format!(
            "the following argument is required: {flag}"
        ))),
    }
}

/// Most a password may be on standard input (Cognito takes 256 characters).
const MAX_PASSWORD_BYTES: u64 = 4096;

/// The password from standard input: everything, less one trailing newline (`\n` or `\r\n`);
/// nothing else is trimmed (the API never trims a password). A terminal is refused: typing a
/// password there would echo it.
pub fn read_password(stdin: &mut dyn Stdin) -> Result<SecretString, Failure> {
    if stdin.is_terminal() {
        return Err(Failure::Usage(
            "--password-stdin reads a pipe or a file, not a terminal: for example `resetgate-cli ... --password-stdin < password-file`".into(),
        ));
    }
    let text = stdin.read_all(MAX_PASSWORD_BYTES).map_err(|e| {
        Failure::Usage(format!("cannot read the password from standard input: {e}"))
    })?;
    let raw = text.expose_secret();
    let password = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(raw);
    if password.is_empty() {
        return Err(Failure::Usage(
            "--password-stdin: standard input holds no password".into(),
        ));
    }
    Ok(SecretString::from(password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::{SkeletonKind, skeleton};
    use crate::token::tests::FakeStdin;

    fn document(text: &str) -> Option<Map<String, Value>> {
        read_document(Some(text), None).unwrap()
    }

    #[test]
    fn flags_override_the_input_document_key_by_key() {
        let doc: ResetInput = from_document(
            document(r#"{"target": "app-users", "userName": "bob", "mode": "code", "clientToken": "k-1"}"#),
            Operation::ResetUserPassword,
        )
        .unwrap();
        let flags = ResetInput {
            user_name: Some("alice".into()),
            mode: Some(Mode::Generate),
            ..ResetInput::default()
        };
        assert_eq!(
            flags.over(doc),
            ResetInput {
                target: Some("app-users".into()),
                user_name: Some("alice".into()),
                mode: Some(Mode::Generate),
                client_token: Some("k-1".into()),
                client_metadata: None,
            }
        );
    }

    #[test]
    fn yaml_input_reads_like_json_input() {
        let yaml: ResetInput = from_document(
            read_document(
                None,
                Some("target: app-users\nmode: generate\nclientMetadata:\n  portal: helpdesk\n"),
            )
            .unwrap(),
            Operation::ResetUserPassword,
        )
        .unwrap();
        assert_eq!(yaml.target.as_deref(), Some("app-users"));
        assert_eq!(yaml.mode, Some(Mode::Generate));
        assert_eq!(yaml.client_metadata.unwrap()["portal"], "helpdesk");
    }

    #[test]
    fn input_from_a_file_url() {
        let path =
            std::env::temp_dir().join(format!("resetgate-cli-input-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"target": "corp-ad"}"#).unwrap();
        let doc = read_document(Some(&format!("file://{}", path.display())), None).unwrap();
        let input: ResetInput = from_document(doc, Operation::ResetUserPassword).unwrap();
        assert_eq!(input.target.as_deref(), Some("corp-ad"));
        let Err(Failure::Usage(message)) =
            read_document(Some("file:///nonexistent/input.json"), None)
        else {
            panic!("a missing file is a usage error");
        };
        assert!(
            message.starts_with("--cli-input-json: cannot read /nonexistent/input.json"),
            "{message}"
        );
    }

    #[test]
    fn the_input_document_never_carries_a_password() {
        for text in [
            r#"{"target": "x", "password": "Secret-1"}"#,
            r#"{"Password": "Secret-1"}"#,
        ] {
            let Err(Failure::Usage(message)) =
                from_document::<ResetInput>(document(text), Operation::ResetUserPassword)
            else {
                panic!("a password was accepted from {text}");
            };
            assert!(message.contains("pipe it to --password-stdin"), "{message}");
            assert!(!message.contains("Secret-1"));
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_usage_errors() {
        let cases = [
            (
                r#"{"userPoolId": "x"}"#,
                "Unknown parameter in input: \"userPoolId\", must be one of: target, userName, mode, clientToken, clientMetadata",
            ),
            (
                r#"{"mode": "reset"}"#,
                "Invalid input for ResetUserPassword: unknown variant `reset`",
            ),
            (
                r#"{"target": 7}"#,
                "Invalid input for ResetUserPassword: invalid type: integer `7`",
            ),
            (r#"[1]"#, "--cli-input-json: the input must be an object"),
            (r#"{"#, "--cli-input-json: the input is not valid"),
        ];
        for (text, expected) in cases {
            let result = read_document(Some(text), None)
                .and_then(|doc| from_document::<ResetInput>(doc, Operation::ResetUserPassword));
            let Err(Failure::Usage(message)) = result else {
                panic!("{text} was accepted");
            };
            assert!(message.starts_with(expected), "{text}: {message}");
        }
        let Err(Failure::Usage(message)) = from_document::<ConfirmInput>(
            document(r#"{"userName": "bob"}"#),
            Operation::ConfirmPasswordReset,
        ) else {
            panic!("userName is not an input of confirm-password-reset");
        };
        assert!(
            message.ends_with("must be one of: target, code, clientToken"),
            "{message}"
        );
        assert!(matches!(
            read_document(Some("{}"), Some("{}")),
            Err(Failure::Usage(_))
        ));
    }

    #[test]
    fn skeletons_round_trip_and_name_every_input_key() {
        for operation in [
            Operation::ListTargets,
            Operation::ResetUserPassword,
            Operation::ConfirmPasswordReset,
        ] {
            for kind in [SkeletonKind::Input, SkeletonKind::YamlInput] {
                let text = skeleton(operation, kind);
                let doc = match kind {
                    SkeletonKind::Input => read_document(Some(&text), None),
                    _ => read_document(None, Some(&text)),
                }
                .unwrap()
                .unwrap();
                let keys: Vec<&str> = doc.keys().map(String::as_str).collect();
                let mut expected = operation.input_keys().to_vec();
                expected.sort_unstable();
                assert_eq!(keys, expected, "{operation:?} {kind:?}");
                assert!(!text.to_lowercase().contains("\"password\""), "{text}");
                assert!(!keys.contains(&"password"));
            }
        }
        let output = skeleton(Operation::ResetUserPassword, SkeletonKind::Output);
        let value: Value = serde_json::from_str(&output).unwrap();
        assert_eq!(value["clientToken"], "string");
    }

    #[test]
    fn an_unedited_skeleton_is_refused_before_anything_is_sent() {
        let doc: ResetInput = from_document(
            read_document(
                Some(r#"{"target": "app-users", "userName": "", "mode": "generate"}"#),
                None,
            )
            .unwrap(),
            Operation::ResetUserPassword,
        )
        .unwrap();
        let Err(Failure::Usage(message)) = ResetRequest::check(doc, false) else {
            panic!("an empty userName must not mean self-service");
        };
        assert!(
            message.contains("leave the key out to reset your own account"),
            "{message}"
        );
        let Err(Failure::Usage(message)) = from_document::<ResetInput>(
            read_document(
                Some(&skeleton(Operation::ResetUserPassword, SkeletonKind::Input)),
                None,
            )
            .unwrap(),
            Operation::ResetUserPassword,
        ) else {
            panic!("an empty mode is not a mode");
        };
        assert!(message.contains("unknown variant ``"), "{message}");
    }

    #[test]
    fn reset_checks() {
        let base = ResetInput {
            target: Some("app-users".into()),
            mode: Some(Mode::Generate),
            ..ResetInput::default()
        };
        let request = ResetRequest::check(base.clone(), false).unwrap();
        assert!(request.client_token.generated);
        assert_eq!(request.body(), serde_json::json!({"mode": "generate"}));

        let cases: Vec<(ResetInput, bool, &str)> = vec![
            (
                ResetInput {
                    target: None,
                    ..base.clone()
                },
                false,
                "required: --target",
            ),
            (
                ResetInput {
                    target: Some(String::new()),
                    ..base.clone()
                },
                false,
                "target must not be empty",
            ),
            (
                ResetInput {
                    mode: None,
                    ..base.clone()
                },
                false,
                "required: --mode",
            ),
            (
                ResetInput {
                    mode: Some(Mode::Set),
                    ..base.clone()
                },
                false,
                "--mode set needs --password-stdin",
            ),
            (
                base.clone(),
                true,
                "--password-stdin goes with --mode set only",
            ),
            (
                ResetInput {
                    client_metadata: Some([("a".into(), "b".into())].into()),
                    ..base.clone()
                },
                false,
                "--client-metadata goes with --mode code only",
            ),
            (
                ResetInput {
                    client_token: Some("a,b".into()),
                    ..base.clone()
                },
                false,
                "without a comma",
            ),
            (
                ResetInput {
                    client_token: Some(String::new()),
                    ..base.clone()
                },
                false,
                "clientToken must not be empty",
            ),
            (
                ResetInput {
                    client_token: Some("x".repeat(129)),
                    ..base.clone()
                },
                false,
                "at most 128",
            ),
        ];
        for (input, stdin, expected) in cases {
            let Err(Failure::Usage(message)) = ResetRequest::check(input.clone(), stdin) else {
                panic!("{input:?} was accepted");
            };
            assert!(message.contains(expected), "{input:?}: {message}");
        }

        let request = ResetRequest::check(
            ResetInput {
                mode: Some(Mode::Code),
                client_token: Some("given-key".into()),
                client_metadata: Some([("portal".into(), "helpdesk".into())].into()),
                ..base
            },
            false,
        )
        .unwrap();
        assert_eq!(
            request.client_token,
            ClientToken {
                value: "given-key".into(),
                generated: false
            }
        );
        assert_eq!(
            request.body(),
            serde_json::json!({"mode": "code", "clientMetadata": {"portal": "helpdesk"}})
        );
    }

    #[test]
    fn generated_client_tokens_are_uuid_v4_and_fresh() {
        let a = new_client_token();
        let b = new_client_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "{a}");
        assert!("89ab".contains(&a[19..20]), "{a}");
        assert!(validate_client_token(&a).is_ok());
    }

    #[test]
    fn client_metadata_is_json_or_shorthand() {
        assert_eq!(
            parse_client_metadata(r#"{"portal": "helpdesk"}"#).unwrap(),
            BTreeMap::from([("portal".to_owned(), "helpdesk".to_owned())])
        );
        assert_eq!(
            parse_client_metadata("portal=helpdesk, ticket=INC-1").unwrap(),
            BTreeMap::from([
                ("portal".to_owned(), "helpdesk".to_owned()),
                ("ticket".to_owned(), "INC-1".to_owned())
            ])
        );
        assert!(matches!(
            parse_client_metadata(r#"{"n": 1}"#),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            parse_client_metadata("portal"),
            Err(Failure::Usage(_))
        ));
    }

    #[test]
    fn the_password_is_stdin_less_one_newline_and_never_a_terminal() {
        let mut stdin = FakeStdin {
            terminal: false,
            text: Some(" Pa ss-word \r\n".into()),
            reads: 0,
        };
        assert_eq!(
            read_password(&mut stdin).unwrap().expose_secret(),
            " Pa ss-word "
        );
        let mut stdin = FakeStdin {
            terminal: false,
            text: Some("pw\n\n".into()),
            reads: 0,
        };
        assert_eq!(read_password(&mut stdin).unwrap().expose_secret(), "pw\n");
        let mut stdin = FakeStdin {
            terminal: false,
            text: Some("\n".into()),
            reads: 0,
        };
        assert!(matches!(read_password(&mut stdin), Err(Failure::Usage(_))));
        let mut stdin = FakeStdin {
            terminal: true,
            text: Some("pw".into()),
            reads: 0,
        };
        let Err(Failure::Usage(message)) = read_password(&mut stdin) else {
            panic!("a terminal was read");
        };
        assert_eq!(stdin.reads, 0);
        assert!(message.contains("not a terminal"), "{message}");
    }

    #[test]
    fn confirm_input_hides_the_code() {
        let input = ConfirmInput {
            target: Some("app-users".into()),
            code: Some("123456".into()),
            client_token: None,
        };
        assert!(!format!("{input:?}").contains("123456"));
        let (_, code, token) = ConfirmRequest::check(input).unwrap();
        let request = ConfirmRequest {
            target: "app-users".into(),
            code,
            password: SecretString::from("Canary-Pw-1".to_owned()),
            client_token: token,
        };
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("123456") && !debug.contains("Canary"),
            "{debug}"
        );
        assert_eq!(
            request.body(),
            serde_json::json!({"code": "123456", "password": "Canary-Pw-1"})
        );
        let Err(Failure::Usage(message)) = ConfirmRequest::check(ConfirmInput {
            target: Some("t".into()),
            ..ConfirmInput::default()
        }) else {
            panic!("a confirmation needs a code");
        };
        assert!(message.contains("--code"));
    }
}

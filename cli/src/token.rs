//! The bearer token: the caller's ID (or access) token, which API Gateway's authorizer checks.
//!
//! It comes from, in this order: `--token-file`, `RESETGATE_TOKEN`, the profile's
//! `token_file`, or standard input when standard input does not carry a password. The CLI
//! reads its `exp` without verifying the signature (only API Gateway can, with the issuer's
//! keys) so that an expired token gets a clear error instead of a bare 401.

use std::{
    fmt,
    io::Read,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::{
    exit::Failure,
    settings::{Settings, Source, TOKEN_VAR},
};

/// Where a token comes from, said in every "no token" error.
pub const TOKEN_SOURCES: &str = "--token-file FILE, the RESETGATE_TOKEN environment variable, a profile's token_file, or standard input";
/// Larger input is not a token.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// Where this run's token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    File { path: PathBuf, source: Source },
    Env,
    Stdin,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, source } => write!(f, "{} (from {source})", path.display()),
            Self::Env => write!(f, "the {TOKEN_VAR} environment variable"),
            Self::Stdin => write!(f, "standard input"),
        }
    }
}

/// The bearer token, with what the CLI read from its payload. `Debug` never shows it.
pub struct BearerToken {
    secret: SecretString,
    /// Where it came from.
    pub source: TokenSource,
    /// The `exp` claim, epoch seconds.
    pub expires_at: i64,
    /// The `iss` claim, for `--debug` (not a secret).
    pub issuer: Option<String>,
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("secret", &"[REDACTED]")
            .field("source", &self.source)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl BearerToken {
    /// The token, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The token as a secret (for the redactor).
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// Checks the text of a token and reads its payload: a JWT (three base64url parts) whose
    /// `exp` is later than `now`. A leading `Bearer ` is dropped.
    pub fn parse(text: &str, source: TokenSource, now: i64) -> Result<Self, Failure> {
        let mut token = text.trim();
        if let Some(rest) = token
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("bearer "))
            .map(|_| &token[7..])
        {
            token = rest.trim_start();
        }
        let bad = |why: &str| {
            Failure::Configuration(format!(
                "the token from {source} {why}. A token comes from {TOKEN_SOURCES}: the signed-in user's ID token"
            ))
        };
        if token.is_empty() {
            return Err(bad("is empty"));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(
                "is not a JWT (it holds spaces or other characters a JWT never has)",
            ));
        }
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(bad(
                "is not a JWT (three base64url parts separated by dots)",
            ));
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1].trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| bad("is not a JWT (its payload is not a base64url JSON object)"))?;
        let expires_at = payload
            .get("exp")
            .and_then(|exp| exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64)))
            .ok_or_else(|| bad("has no expiry (`exp`): it is not an ID or access token"))?;
        if expires_at <= now {
            let ago = now - expires_at;
            return Err(Failure::Configuration(format!(
                "the token from {source} expired {} ago (exp {expires_at}). Sign in again and give the new token with {TOKEN_SOURCES}",
                human_duration(ago)
            )));
        }
        Ok(Self {
            secret: SecretString::from(token.to_owned()),
            source,
            expires_at,
            issuer: payload
                .get("iss")
                .and_then(|i| i.as_str())
                .map(str::to_owned),
        })
    }
}

/// "3 min", "2 h 5 min", "40 s".
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds < 120 {
        format!("{seconds} s")
    } else if seconds < 7200 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60)
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Finds and reads the token. `stdin_free` is false when standard input carries the password;
/// `stdin` is read only when it is free and nothing else gave a token.
pub fn load(
    settings: &Settings,
    env_token: Option<&str>,
    stdin_free: bool,
    stdin: &mut dyn Stdin,
    now: i64,
) -> Result<BearerToken, Failure> {
    if let Some(path) = &settings.flag_token_file {
        let source = TokenSource::File {
            path: path.clone(),
            source: Source::Flag("--token-file"),
        };
        return BearerToken::parse(read_file(path, &source)?.expose_secret(), source, now);
    }
    if let Some(token) = env_token {
        return BearerToken::parse(token, TokenSource::Env, now);
    }
    if let Some(file) = &settings.profile_token_file {
        let source = TokenSource::File {
            path: file.value.clone(),
            source: file.source.clone(),
        };
        return BearerToken::parse(
            read_file(&file.value, &source)?.expose_secret(),
            source,
            now,
        );
    }
    if stdin_free && !stdin.is_terminal() {
        let text = stdin.read_all(MAX_TOKEN_BYTES).map_err(|e| {
            Failure::Configuration(format!("cannot read the token from standard input: {e}"))
        })?;
        if !text.expose_secret().trim().is_empty() {
            return BearerToken::parse(text.expose_secret(), TokenSource::Stdin, now);
        }
    }
    let stdin_note = if stdin_free {
        ""
    } else {
        " (standard input carries the password here, so not the token)"
    };
    Err(Failure::Configuration(format!(
        "no token: give the signed-in user's ID token with {TOKEN_SOURCES}{stdin_note}"
    )))
}

fn read_file(path: &Path, source: &TokenSource) -> Result<SecretString, Failure> {
    let file = std::fs::File::open(path).map_err(|e| {
        Failure::Configuration(format!(
            "cannot read the token file {source}: {e}. A token comes from {TOKEN_SOURCES}"
        ))
    })?;
    warn_if_readable_by_others(&file, path);
    let mut text = String::new();
    file.take(MAX_TOKEN_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| Failure::Configuration(format!("cannot read the token file {source}: {e}")))?;
    Ok(SecretString::from(text))
}

/// A bearer token is a credential: like ssh with a private key, say so when others can read it.
#[cfg(unix)]
fn warn_if_readable_by_others(file: &std::fs::File, path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(metadata) = file.metadata() {
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "resetgate-cli: warning: the token file {} can be read by other users (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &std::fs::File, _: &Path) {}

/// Standard input, as the token and password readers need it (tests give their own).
pub trait Stdin {
    /// Whether it is a terminal (then nothing is read from it).
    fn is_terminal(&self) -> bool;
    /// Everything, up to `limit` bytes (more is an error), as UTF-8.
    fn read_all(&mut self, limit: u64) -> std::io::Result<SecretString>;
}

/// The process's standard input.
pub struct ProcessStdin;

impl Stdin for ProcessStdin {
    fn is_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(&std::io::stdin())
    }

    fn read_all(&mut self, limit: u64) -> std::io::Result<SecretString> {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)?;
        let result = if bytes.len() as u64 > limit {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("more than {limit} bytes"),
            ))
        } else {
            std::str::from_utf8(&bytes)
                .map(|text| SecretString::from(text.to_owned()))
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
        };
        secrecy::zeroize::Zeroize::zeroize(&mut bytes);
        result
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::settings::{Environment, Flags, resolve};

    /// An unsigned JWT with these claims (the CLI never checks signatures).
    pub fn jwt(claims: &serde_json::Value) -> String {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(br#"{"alg":"RS256","kid":"k"}"#),
            b64(claims.to_string().as_bytes())
        )
    }

    pub struct FakeStdin {
        pub terminal: bool,
        pub text: Option<String>,
        pub reads: usize,
    }

    impl Stdin for FakeStdin {
        fn is_terminal(&self) -> bool {
            self.terminal
        }
        fn read_all(&mut self, _: u64) -> std::io::Result<SecretString> {
            self.reads += 1;
            Ok(SecretString::from(self.text.clone().unwrap_or_default()))
        }
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_jwt_with_a_future_exp_is_accepted() {
        let token = jwt(&serde_json::json!({"exp": NOW + 600, "iss": "https://issuer"}));
        let parsed =
            BearerToken::parse(&format!("Bearer {token}\n"), TokenSource::Env, NOW).unwrap();
        assert_eq!(parsed.expose(), token);
        assert_eq!(parsed.expires_at, NOW + 600);
        assert_eq!(parsed.issuer.as_deref(), Some("https://issuer"));
        assert!(!format!("{parsed:?}").contains(&token));
    }

    #[test]
    fn an_expired_token_says_when_and_where_tokens_come_from() {
        let token = jwt(&serde_json::json!({"exp": NOW - 300}));
        let Err(Failure::Configuration(message)) =
            BearerToken::parse(&token, TokenSource::Env, NOW)
        else {
            panic!("expected a configuration error");
        };
        assert!(
            message.contains(
                "the token from the RESETGATE_TOKEN environment variable expired 5 min ago"
            ),
            "{message}"
        );
        assert!(message.contains(TOKEN_SOURCES), "{message}");
        assert!(!message.contains(&token));
    }

    #[test]
    fn what_is_not_a_jwt_is_refused_without_echoing_it() {
        let cases = [
            ("", "is empty"),
            ("not-a-jwt", "three base64url parts"),
            ("a.b", "three base64url parts"),
            ("a..c", "three base64url parts"),
            ("a.b c.d", "holds spaces"),
            ("aaa.!!!.ccc", "payload is not a base64url JSON object"),
            (&jwt(&serde_json::json!({"sub": "x"})), "has no expiry"),
        ];
        for (text, why) in cases {
            let Err(Failure::Configuration(message)) =
                BearerToken::parse(text, TokenSource::Stdin, NOW)
            else {
                panic!("{text:?} was accepted");
            };
            assert!(message.contains(why), "{text:?}: {message}");
            if !text.is_empty() {
                assert!(!message.contains(text), "{message}");
            }
        }
    }

    fn settings(token_file: Option<PathBuf>) -> Settings {
        let mut settings = resolve(
            &Flags::default(),
            &Environment::of([("RESETGATE_CLI_CONFIG_FILE", "/nonexistent/config")]),
        )
        .unwrap();
        settings.flag_token_file = token_file;
        settings
    }

    #[test]
    fn the_token_comes_from_the_file_then_the_environment_then_stdin() {
        let dir = std::env::temp_dir().join(format!("resetgate-cli-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file_token = jwt(&serde_json::json!({"exp": NOW + 60, "iss": "file"}));
        let path = dir.join("token");
        std::fs::write(&path, format!("{file_token}\n")).unwrap();
        let env_token = jwt(&serde_json::json!({"exp": NOW + 60, "iss": "env"}));
        let stdin_token = jwt(&serde_json::json!({"exp": NOW + 60, "iss": "stdin"}));
        let mut stdin = FakeStdin {
            terminal: false,
            text: Some(stdin_token.clone()),
            reads: 0,
        };

        let t = load(
            &settings(Some(path.clone())),
            Some(&env_token),
            true,
            &mut stdin,
            NOW,
        )
        .unwrap();
        assert_eq!(t.issuer.as_deref(), Some("file"));
        let t = load(&settings(None), Some(&env_token), true, &mut stdin, NOW).unwrap();
        assert_eq!(t.issuer.as_deref(), Some("env"));
        assert_eq!(
            stdin.reads, 0,
            "stdin is read only when nothing else gives a token"
        );
        let t = load(&settings(None), None, true, &mut stdin, NOW).unwrap();
        assert_eq!(t.issuer.as_deref(), Some("stdin"));
        assert_eq!(t.source, TokenSource::Stdin);
    }

    #[test]
    fn stdin_is_not_read_for_a_token_when_it_carries_the_password_or_is_a_terminal() {
        let token = jwt(&serde_json::json!({"exp": NOW + 60}));
        for (free, terminal, note) in [(false, false, true), (true, true, false)] {
            let mut stdin = FakeStdin {
                terminal,
                text: Some(token.clone()),
                reads: 0,
            };
            let Err(Failure::Configuration(message)) =
                load(&settings(None), None, free, &mut stdin, NOW)
            else {
                panic!("expected no token");
            };
            assert_eq!(stdin.reads, 0);
            assert!(
                message.starts_with(
                    "no token: give the signed-in user's ID token with --token-file FILE"
                ),
                "{message}"
            );
            assert_eq!(
                message.contains("standard input carries the password"),
                note,
                "{message}"
            );
        }
    }

    #[test]
    fn a_missing_token_file_is_a_configuration_error() {
        let mut stdin = FakeStdin {
            terminal: true,
            text: None,
            reads: 0,
        };
        let Err(Failure::Configuration(message)) = load(
            &settings(Some("/nonexistent/token".into())),
            None,
            true,
            &mut stdin,
            NOW,
        ) else {
            panic!("expected a configuration error");
        };
        assert!(
            message.contains("cannot read the token file /nonexistent/token (from --token-file)"),
            "{message}"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(40), "40 s");
        assert_eq!(human_duration(300), "5 min");
        assert_eq!(human_duration(7500), "2 h 5 min");
    }
}

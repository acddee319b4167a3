//! The built `resetgate-cli` against a scripted API (tests/common): the exact requests it
//! sends, what it does with each kind of answer, its exit codes, its retries, and that no
//! secret reaches its output. The same commands against the real function behind a local API
//! Gateway are in tests/e2e.rs.

mod common;

use std::time::Duration;

use common::{FakeApi, Ran, Reply, cli, jwt, now, run, scratch};
use serde_json::{Value, json};

const CANARY_PASSWORD: &str = "Canary-Pw-7f3kZq!x9";
const CANARY_CODE: &str = "739201";
const GENERATED: &str = "Gen3rated-Pw-Qx81!zz";

fn token() -> String {
    jwt(now() + 3600, "canary-token")
}

/// The CLI pointed at `api` with `token` in RESETGATE_TOKEN.
fn against(api: &FakeApi, home: &std::path::Path, token: &str) -> std::process::Command {
    let mut command = cli(home);
    command
        .env("RESETGATE_ENDPOINT_URL", &api.url)
        .env("RESETGATE_TOKEN", token);
    command
}

fn targets() -> Value {
    json!({"targets": [{"name": "app-users", "service": "cognito", "modes": ["code", "generate", "set"], "self": true, "admin": true}]})
}

fn assert_no_secret(ran: &Ran, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !ran.stdout.contains(secret),
            "stdout holds a secret:\n{}",
            ran.stdout
        );
        assert!(
            !ran.stderr.contains(secret),
            "stderr holds a secret:\n{}",
            ran.stderr
        );
    }
}

#[test]
fn list_targets_sends_the_token_and_prints_the_answer() {
    let home = scratch("list");
    let api = FakeApi::start(vec![Reply::json(200, targets())]);
    let token = token();
    let ran = run(against(&api, &home, &token).arg("list-targets"), None);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let printed: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(printed, targets());
    let request = &api.received()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/v1/targets")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("resetgate-cli/")
    );
    assert!(request.header("idempotency-key").is_none());
}

#[test]
fn an_admin_reset_encodes_the_path_and_shows_the_generated_client_token() {
    let home = scratch("admin-reset");
    let api = FakeApi::start(vec![Reply::json(
        200,
        json!({
            "target": "app-users", "username": "bob", "mode": "generate",
            "mustChangeAtNextSignIn": true, "password": GENERATED, "sessionsRevoked": true
        }),
    )]);
    let ran = run(
        against(&api, &home, &token()).args([
            "reset-user-password",
            "--target",
            "app-users",
            "--user-name",
            "bob@example.com",
            "--mode",
            "generate",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let request = &api.received()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        "/v1/targets/app-users/users/bob%40example.com/password-reset"
    );
    assert_eq!(request.json(), json!({"mode": "generate"}));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let key = request
        .header("idempotency-key")
        .expect("an Idempotency-Key");
    let printed: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(
        printed["clientToken"], key,
        "the output shows the key it sent"
    );
    assert_eq!(key.len(), 36);
    assert_eq!(printed["password"], GENERATED);
    assert_eq!(
        ran.stdout.matches(GENERATED).count(),
        1,
        "the password is printed once"
    );
    assert!(!ran.stderr.contains(GENERATED));
}

#[test]
fn a_self_service_reset_has_no_user_in_the_path_and_keeps_a_given_client_token() {
    let home = scratch("self-reset");
    let api = FakeApi::start(vec![Reply::json(
        202,
        json!({"target": "app-users", "username": "alice", "mode": "code", "mustChangeAtNextSignIn": true, "delivery": "verified_contact"}),
    )]);
    let ran = run(
        against(&api, &home, &token()).args([
            "reset-user-password",
            "--target",
            "app-users",
            "--mode",
            "code",
            "--client-token",
            "my-key-1",
            "--client-metadata",
            "portal=cli",
            "--output",
            "text",
            "--query",
            "[clientToken, delivery]",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout, "my-key-1\tverified_contact\n");
    let request = &api.received()[0];
    assert_eq!(request.path, "/v1/targets/app-users/password-reset");
    assert_eq!(request.header("idempotency-key"), Some("my-key-1"));
    assert_eq!(
        request.json(),
        json!({"mode": "code", "clientMetadata": {"portal": "cli"}})
    );
}

#[test]
fn set_reads_the_password_from_stdin_and_never_prints_it_or_the_token() {
    let home = scratch("set");
    let api = FakeApi::start(vec![Reply::json(
        200,
        json!({"target": "corp-ad", "username": "bob.jones", "mode": "set", "mustChangeAtNextSignIn": false}),
    )]);
    let token = token();
    let ran = run(
        against(&api, &home, &token).args([
            "--debug",
            "reset-user-password",
            "--target",
            "corp-ad",
            "--user-name",
            "bob.jones",
            "--mode",
            "set",
            "--password-stdin",
        ]),
        Some(&format!("{CANARY_PASSWORD}\n")),
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(
        api.received()[0].json(),
        json!({"mode": "set", "password": CANARY_PASSWORD})
    );
    assert!(ran.stderr.contains("debug:"), "--debug writes to stderr");
    assert!(
        ran.stderr.contains("\"password\":\"<redacted>\""),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("authorization: Bearer <redacted>"),
        "{}",
        ran.stderr
    );
    assert_no_secret(
        &ran,
        &[CANARY_PASSWORD, &token, token.split('.').nth(2).unwrap()],
    );
}

#[test]
fn confirm_sends_code_and_password_with_an_idempotency_key() {
    let home = scratch("confirm");
    let api = FakeApi::start(vec![Reply::json(
        200,
        json!({
            "target": "app-users", "username": "alice", "mode": "confirm",
            "mustChangeAtNextSignIn": false, "sessionsRevoked": true
        }),
    )]);
    let token = token();
    let ran = run(
        against(&api, &home, &token).args([
            "--debug",
            "confirm-password-reset",
            "--target",
            "app-users",
            "--code",
            CANARY_CODE,
            "--password-stdin",
        ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let request = &api.received()[0];
    assert_eq!(request.path, "/v1/targets/app-users/password-reset/confirm");
    assert_eq!(
        request.json(),
        json!({"code": CANARY_CODE, "password": CANARY_PASSWORD})
    );
    let key = request.header("idempotency-key").unwrap();
    let printed: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(printed["mode"], "confirm");
    assert_eq!(printed["clientToken"], key);
    assert_no_secret(&ran, &[CANARY_PASSWORD, CANARY_CODE, &token]);
}

#[test]
fn a_wrong_code_is_the_services_refusal_in_the_aws_clis_words() {
    let home = scratch("invalid-code");
    let api = FakeApi::start(vec![Reply::problem(
        400,
        "INVALID_CODE",
        "The code is wrong, spent or expired: ask for a new one.",
    )]);
    let ran = run(
        against(&api, &home, &token()).args([
            "confirm-password-reset",
            "--target",
            "app-users",
            "--code",
            CANARY_CODE,
            "--password-stdin",
        ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(254), "{ran:?}");
    assert!(ran.stderr.contains(
        "An error occurred (INVALID_CODE) when calling the ConfirmPasswordReset operation: The code is wrong, spent or expired: ask for a new one."
    ), "{}", ran.stderr);
    assert!(ran.stderr.contains("requestId: req-0001"), "{}", ran.stderr);
    assert!(ran.stdout.is_empty());
    assert_eq!(api.received().len(), 1, "a refusal is not retried");
    assert_no_secret(&ran, &[CANARY_PASSWORD, CANARY_CODE]);
}

#[test]
fn rate_limited_is_not_retried() {
    let home = scratch("rate-limited");
    let api = FakeApi::start(vec![
        Reply::problem(429, "RATE_LIMITED", "Too many resets.").header("retry-after", "1800"),
    ]);
    let ran = run(
        against(&api, &home, &token()).args([
            "confirm-password-reset",
            "--target",
            "app-users",
            "--code",
            "123456",
            "--password-stdin",
        ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(254), "{ran:?}");
    assert_eq!(api.received().len(), 1);
    assert!(
        ran.stderr.contains("(RATE_LIMITED)") && ran.stderr.contains("retryAfterSeconds: 1800"),
        "{}",
        ran.stderr
    );
}

#[test]
fn in_progress_and_unavailable_are_retried_with_the_same_key() {
    let home = scratch("retry");
    let api = FakeApi::start(vec![
        Reply::problem(409, "REQUEST_IN_PROGRESS", "In progress.").header("retry-after", "0"),
        Reply::problem(503, "UPSTREAM_UNAVAILABLE", "Try again.").header("retry-after", "0"),
        Reply::json(200, json!({"target": "corp-ad", "username": "bob.jones", "mode": "generate", "mustChangeAtNextSignIn": false, "passwordDelivered": "earlier"}))
            .header("idempotent-replayed", "true"),
    ]);
    let ran = run(
        against(&api, &home, &token()).args([
            "--debug",
            "reset-user-password",
            "--target",
            "corp-ad",
            "--user-name",
            "bob.jones",
            "--mode",
            "generate",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let received = api.received();
    assert_eq!(received.len(), 3);
    let keys: Vec<&str> = received
        .iter()
        .map(|r| r.header("idempotency-key").unwrap())
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    let printed: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(printed["replayed"], true);
    assert_eq!(printed["clientToken"], keys[0]);
    assert_eq!(
        ran.stderr.matches("with the same idempotency key").count(),
        2,
        "{}",
        ran.stderr
    );
}

#[test]
fn retry_after_is_honoured() {
    let home = scratch("retry-after");
    let api = FakeApi::start(vec![
        Reply::problem(409, "REQUEST_IN_PROGRESS", "In progress.").header("retry-after", "1"),
        Reply::json(
            200,
            json!({"target": "t", "username": "u", "mode": "generate", "mustChangeAtNextSignIn": false}),
        ),
    ]);
    let ran = run(
        against(&api, &home, &token()).args([
            "reset-user-password",
            "--target",
            "t",
            "--user-name",
            "u",
            "--mode",
            "generate",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let received = api.received();
    let waited = received[1].at - received[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[test]
fn retries_stop_after_max_attempts() {
    let home = scratch("retry-exhausted");
    let api = FakeApi::start(vec![
        Reply::problem(409, "REQUEST_IN_PROGRESS", "Still in progress.").header("retry-after", "0"),
    ]);
    let ran = run(
        against(&api, &home, &token())
            .env("RESETGATE_MAX_ATTEMPTS", "3")
            .args([
                "reset-user-password",
                "--target",
                "t",
                "--user-name",
                "u",
                "--mode",
                "generate",
                "--client-token",
                "k-42",
            ]),
        None,
    );
    assert_eq!(ran.code, Some(254), "{ran:?}");
    assert_eq!(api.received().len(), 3);
    assert!(ran.stderr.contains("An error occurred (REQUEST_IN_PROGRESS) when calling the ResetUserPassword operation (reached max retries: 2): Still in progress."), "{}", ran.stderr);
    assert!(ran.stderr.contains("clientToken: k-42"), "{}", ran.stderr);
}

#[test]
fn api_gateways_own_unavailable_is_retried_and_its_not_found_is_not() {
    let home = scratch("gateway");
    let api = FakeApi::start(vec![
        Reply::json(503, json!({"message": "Service Unavailable"})),
        Reply::json(200, targets()),
    ]);
    let ran = run(against(&api, &home, &token()).arg("list-targets"), None);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(api.received().len(), 2);

    let api = FakeApi::start(vec![Reply::json(404, json!({"message": "Not Found"}))]);
    let ran = run(against(&api, &home, &token()).arg("list-targets"), None);
    assert_eq!(ran.code, Some(254), "{ran:?}");
    assert!(ran.stderr.contains("An error occurred (HTTP 404) when calling the ListTargets operation: Not Found (API Gateway)"), "{}", ran.stderr);
}

#[test]
fn a_401_is_a_configuration_error_naming_the_token_sources() {
    let home = scratch("unauthorized");
    let api = FakeApi::start(vec![Reply::json(401, json!({"message": "Unauthorized"}))
        .header("www-authenticate", "Bearer scope=\"\" error=\"invalid_token\" error_description=\"the token's signature is invalid\"")]);
    let ran = run(against(&api, &home, &token()).arg("list-targets"), None);
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(ran.stderr.contains("the API refused the token when calling the ListTargets operation (401 Unauthorized: the token's signature is invalid)"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("--token-file FILE, the RESETGATE_TOKEN environment variable"),
        "{}",
        ran.stderr
    );
}

#[test]
fn an_expired_token_is_refused_before_anything_is_sent() {
    let home = scratch("expired");
    let api = FakeApi::start(vec![Reply::json(200, targets())]);
    let expired = jwt(now() - 600, "expired");
    let ran = run(against(&api, &home, &expired).arg("list-targets"), None);
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(
        ran.stderr
            .contains("the token from the RESETGATE_TOKEN environment variable expired 10 min ago"),
        "{}",
        ran.stderr
    );
    assert!(api.received().is_empty());
    assert!(!ran.stderr.contains(&expired));
}

#[test]
fn the_token_can_come_from_a_file_or_stdin() {
    let home = scratch("token-sources");
    let api = FakeApi::start(vec![Reply::json(200, targets())]);
    let file_token = jwt(now() + 60, "file");
    let path = home.join("token");
    std::fs::write(&path, &file_token).unwrap();
    let mut command = cli(&home);
    command
        .env("RESETGATE_ENDPOINT_URL", &api.url)
        .arg("--token-file")
        .arg(&path)
        .arg("list-targets");
    assert_eq!(run(&mut command, None).code, Some(0));
    let stdin_token = jwt(now() + 60, "stdin");
    let mut command = cli(&home);
    command
        .env("RESETGATE_ENDPOINT_URL", &api.url)
        .arg("list-targets");
    assert_eq!(
        run(&mut command, Some(&format!("{stdin_token}\n"))).code,
        Some(0)
    );
    let received = api.received();
    assert_eq!(
        received[0].header("authorization"),
        Some(format!("Bearer {file_token}").as_str())
    );
    assert_eq!(
        received[1].header("authorization"),
        Some(format!("Bearer {stdin_token}").as_str())
    );
}

#[test]
fn without_endpoint_or_token_the_cli_says_where_they_come_from() {
    let home = scratch("missing");
    let ran = run(
        cli(&home)
            .env("RESETGATE_TOKEN", token())
            .arg("list-targets"),
        None,
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(ran.stderr.contains("no endpoint: give the API's URL with --endpoint-url, the RESETGATE_ENDPOINT_URL environment variable, or endpoint_url"), "{}", ran.stderr);

    let ran = run(
        cli(&home)
            .env("RESETGATE_ENDPOINT_URL", "https://api.example.com")
            .arg("list-targets"),
        None,
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(
        ran.stderr
            .contains("no token: give the signed-in user's ID token with --token-file FILE"),
        "{}",
        ran.stderr
    );

    // With --password-stdin, standard input is the password's, never the token's.
    let ran = run(
        cli(&home)
            .env("RESETGATE_ENDPOINT_URL", "https://api.example.com")
            .args([
                "reset-user-password",
                "--target",
                "t",
                "--mode",
                "set",
                "--password-stdin",
            ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(
        ran.stderr
            .contains("standard input carries the password here"),
        "{}",
        ran.stderr
    );
    assert!(!ran.all().contains(CANARY_PASSWORD));

    let ran = run(
        cli(&home).env("RESETGATE_TOKEN", token()).args([
            "--endpoint-url",
            "http://api.example.com",
            "list-targets",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(ran.stderr.contains("must be https"), "{}", ran.stderr);
}

#[test]
fn an_unreachable_endpoint_is_255_and_names_the_client_token() {
    let home = scratch("unreachable");
    // Port 1 on loopback refuses at once (nothing unprivileged can listen there).
    let ran = run(
        cli(&home)
            .env("RESETGATE_ENDPOINT_URL", "http://127.0.0.1:1")
            .env("RESETGATE_TOKEN", token())
            .env("RESETGATE_MAX_ATTEMPTS", "2")
            .args([
                "reset-user-password",
                "--target",
                "t",
                "--user-name",
                "u",
                "--mode",
                "generate",
                "--client-token",
                "k-unreached",
            ]),
        None,
    );
    assert_eq!(ran.code, Some(255), "{ran:?}");
    assert!(
        ran.stderr
            .contains("could not complete the ResetUserPassword request to http://127.0.0.1:1/"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("2 attempts"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("run the same command again with --client-token k-unreached"),
        "{}",
        ran.stderr
    );
}

#[test]
fn usage_errors_are_252_and_send_nothing() {
    let home = scratch("usage");
    let api = FakeApi::start(vec![Reply::json(200, targets())]);
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (vec![], None, "Usage:"),
        (
            vec!["list-targets", "--bogus"],
            None,
            "unexpected argument '--bogus'",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "t",
                "--mode",
                "set",
                "--password",
                "x",
            ],
            None,
            "unexpected argument '--password'",
        ),
        (
            vec!["reset-user-password", "--target", "t", "--mode", "set"],
            None,
            "--mode set needs --password-stdin",
        ),
        (
            vec!["reset-user-password", "--mode", "generate"],
            None,
            "required: --target",
        ),
        (
            vec!["reset-user-password", "--target", "t", "--mode", "reset"],
            None,
            "invalid value 'reset'",
        ),
        (
            vec!["--query", "targets[?", "list-targets"],
            None,
            "is not valid JMESPath",
        ),
        (
            vec![
                "reset-user-password",
                "--cli-input-json",
                r#"{"target":"t","mode":"set","password":"x"}"#,
                "--password-stdin",
            ],
            Some("pw"),
            "never read from --cli-input-json",
        ),
        (
            vec![
                "reset-user-password",
                "--cli-input-json",
                r#"{"target":"t","bogus":1}"#,
            ],
            None,
            "Unknown parameter in input: \"bogus\"",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "t",
                "--mode",
                "generate",
                "--client-token",
                "a b",
            ],
            None,
            "without a comma",
        ),
        (
            vec!["confirm-password-reset", "--target", "t", "--code", "1"],
            None,
            "needs --password-stdin",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "t",
                "--mode",
                "set",
                "--password-stdin",
            ],
            Some(""),
            "holds no password",
        ),
    ];
    for (args, stdin, expected) in cases {
        let ran = run(against(&api, &home, &token()).args(&args), stdin);
        assert_eq!(ran.code, Some(252), "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(expected), "{args:?}: {}", ran.stderr);
    }
    assert!(api.received().is_empty(), "a usage error sends nothing");
}

#[test]
fn skeletons_need_no_endpoint_and_send_nothing() {
    let home = scratch("skeleton");
    let ran = run(
        cli(&home).args(["reset-user-password", "--generate-cli-skeleton"]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let skeleton: Value = serde_json::from_str(&ran.stdout).unwrap();
    let mut keys: Vec<&String> = skeleton.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "clientMetadata",
            "clientToken",
            "mode",
            "target",
            "userName"
        ]
    );
    let ran = run(
        cli(&home).args([
            "confirm-password-reset",
            "--generate-cli-skeleton",
            "yaml-input",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.contains("code: ''") && !ran.stdout.contains("password:"),
        "{}",
        ran.stdout
    );
    let ran = run(
        cli(&home).args(["list-targets", "--generate-cli-skeleton", "output"]),
        None,
    );
    let output: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(output["targets"][0]["name"], "string");
}

#[test]
fn a_skeleton_edited_feeds_cli_input_json_and_flags_override_it() {
    let home = scratch("round-trip");
    let api = FakeApi::start(vec![Reply::json(
        202,
        json!({"target": "app-users", "username": "bob", "mode": "code", "mustChangeAtNextSignIn": true, "delivery": "verified_contact"}),
    )]);
    let ran = run(
        cli(&home).args(["reset-user-password", "--generate-cli-skeleton"]),
        None,
    );
    let mut input: Value = serde_json::from_str(&ran.stdout).unwrap();
    input["target"] = json!("app-users");
    input["userName"] = json!("bob");
    input["mode"] = json!("generate");
    input["clientToken"] = json!("from-the-file");
    let path = home.join("reset.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let ran = run(
        against(&api, &home, &token())
            .args(["reset-user-password", "--mode", "code"])
            .arg("--cli-input-json")
            .arg(format!("file://{}", path.display())),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let request = &api.received()[0];
    assert_eq!(
        request.path,
        "/v1/targets/app-users/users/bob/password-reset"
    );
    assert_eq!(
        request.json(),
        json!({"mode": "code"}),
        "--mode overrides the file's mode"
    );
    assert_eq!(request.header("idempotency-key"), Some("from-the-file"));
}

#[test]
fn output_formats() {
    let home = scratch("formats");
    let api = FakeApi::start(vec![Reply::json(200, targets())]);
    let expectations = [
        ("json", "\"name\": \"app-users\""),
        ("yaml", "  name: app-users\n"),
        ("text", "TARGETS\tTrue\tapp-users\tTrue\tcognito\n"),
        ("table", "ListTargets"),
    ];
    for (format, expected) in expectations {
        let ran = run(
            against(&api, &home, &token()).args(["list-targets", "--output", format]),
            None,
        );
        assert_eq!(ran.code, Some(0), "{format}: {ran:?}");
        assert!(
            ran.stdout.contains(expected.trim_end_matches(' ')),
            "{format}:\n{}",
            ran.stdout
        );
    }
    // RESETGATE_DEFAULT_OUTPUT, and --output over it.
    let ran = run(
        against(&api, &home, &token())
            .env("RESETGATE_DEFAULT_OUTPUT", "text")
            .arg("list-targets"),
        None,
    );
    assert!(ran.stdout.starts_with("TARGETS\t"), "{}", ran.stdout);
    let ran = run(
        against(&api, &home, &token())
            .env("RESETGATE_DEFAULT_OUTPUT", "text")
            .args(["list-targets", "--output", "yaml"]),
        None,
    );
    assert!(ran.stdout.starts_with("targets:"), "{}", ran.stdout);
}

#[test]
fn a_generated_password_is_printed_once_in_every_format_and_a_query_that_drops_it_says_so() {
    let home = scratch("generated-once");
    let api = FakeApi::start(vec![Reply::json(
        200,
        json!({"target": "t", "username": "u", "mode": "generate", "mustChangeAtNextSignIn": true, "password": GENERATED}),
    )]);
    for format in ["json", "yaml", "text", "table"] {
        let ran = run(
            against(&api, &home, &token()).args([
                "--debug",
                "reset-user-password",
                "--target",
                "t",
                "--user-name",
                "u",
                "--mode",
                "generate",
                "--output",
                format,
            ]),
            None,
        );
        assert_eq!(ran.code, Some(0), "{format}: {ran:?}");
        assert_eq!(
            ran.stdout.matches(GENERATED).count(),
            1,
            "{format}:\n{}",
            ran.stdout
        );
        assert!(
            !ran.stderr.contains(GENERATED),
            "{format}: the generated password reached stderr"
        );
    }
    let ran = run(
        against(&api, &home, &token()).args([
            "reset-user-password",
            "--target",
            "t",
            "--user-name",
            "u",
            "--mode",
            "generate",
            "--query",
            "username",
            "--output",
            "text",
        ]),
        None,
    );
    assert_eq!(ran.stdout, "u\n");
    assert!(
        ran.stderr
            .contains("the output leaves out the generated password"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(GENERATED));
}

#[test]
fn profiles_give_the_endpoint_output_and_token_file() {
    let home = scratch("profiles");
    let api = FakeApi::start(vec![Reply::json(200, targets())]);
    let token_path = home.join("helpdesk-token");
    std::fs::write(&token_path, token()).unwrap();
    let config = home.join("profiles");
    std::fs::write(
        &config,
        format!(
            "[default]\nendpoint_url = https://unused.example\n\n[profile helpdesk]\nendpoint_url = {}\noutput = text\ntoken_file = helpdesk-token\n",
            api.url
        ),
    )
    .unwrap();
    let ran = run(
        cli(&home).env("RESETGATE_CLI_CONFIG_FILE", &config).args([
            "--profile",
            "helpdesk",
            "list-targets",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.starts_with("TARGETS\t"),
        "the profile's output: {}",
        ran.stdout
    );
    let ran = run(
        cli(&home)
            .env("RESETGATE_CLI_CONFIG_FILE", &config)
            .env("RESETGATE_PROFILE", "helpdesk")
            .args(["list-targets", "--output", "json"]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stdout.starts_with('{'));
    let ran = run(
        cli(&home).env("RESETGATE_CLI_CONFIG_FILE", &config).args([
            "--profile",
            "nobody",
            "list-targets",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(
        ran.stderr.contains("it defines default, helpdesk"),
        "{}",
        ran.stderr
    );
}

#[test]
fn ctrl_c_exits_130_and_names_the_client_token() {
    let home = scratch("ctrl-c");
    let api = FakeApi::start(vec![
        Reply::json(200, targets()).after(Duration::from_secs(30)),
    ]);
    let mut command = against(&api, &home, &token());
    command
        .args([
            "reset-user-password",
            "--target",
            "t",
            "--user-name",
            "u",
            "--mode",
            "generate",
            "--client-token",
            "k-interrupted",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while api.received().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the request never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted. The reset may have been made"),
        "{stderr}"
    );
    assert!(stderr.contains("--client-token k-interrupted"), "{stderr}");
}

#[test]
fn every_command_has_help_with_examples_and_completions_exist() {
    let home = scratch("help");
    for command in [
        "list-targets",
        "reset-user-password",
        "confirm-password-reset",
        "check",
        "completions",
    ] {
        let ran = run(cli(&home).args([command, "--help"]), None);
        assert_eq!(ran.code, Some(0), "{command}: {ran:?}");
        assert!(
            ran.stdout.contains("Examples:"),
            "{command}:\n{}",
            ran.stdout
        );
    }
    for shell in ["bash", "zsh", "fish"] {
        let ran = run(cli(&home).args(["completions", shell]), None);
        assert_eq!(ran.code, Some(0), "{shell}: {ran:?}");
        assert!(
            ran.stdout.contains("reset-user-password") && ran.stdout.contains("--cli-input-json"),
            "{shell}"
        );
    }
    let ran = run(cli(&home).arg("--version"), None);
    assert_eq!(ran.code, Some(0));
    assert!(ran.stdout.starts_with("resetgate-cli "));
}

#[test]
fn debug_never_prints_a_secret_through_any_command() {
    let home = scratch("canary");
    let token = token();
    let signature = token.split('.').nth(2).unwrap().to_owned();
    let ran = run(
        against(
            &FakeApi::start(vec![Reply::json(200, targets())]),
            &home,
            &token,
        )
        .args(["--debug", "list-targets"]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_no_secret(&ran, &[&token, &signature]);
    // Answers that echo the password or the code (a server bug) are masked too.
    let api = FakeApi::start(vec![Reply::json(
        200,
        json!({"echo": format!("{CANARY_PASSWORD} {CANARY_CODE}"), "targets": []}),
    )]);
    let runs = [
        (
            vec![
                "--debug",
                "reset-user-password",
                "--target",
                "t",
                "--mode",
                "set",
                "--password-stdin",
            ],
            Some(CANARY_PASSWORD),
        ),
        (
            vec![
                "--debug",
                "reset-user-password",
                "--target",
                "t",
                "--user-name",
                "u",
                "--mode",
                "set",
                "--password-stdin",
                "--output",
                "table",
            ],
            Some(CANARY_PASSWORD),
        ),
        (
            vec![
                "--debug",
                "confirm-password-reset",
                "--target",
                "t",
                "--code",
                CANARY_CODE,
                "--password-stdin",
                "--output",
                "text",
            ],
            Some(CANARY_PASSWORD),
        ),
    ];
    for (args, stdin) in runs {
        let ran = run(against(&api, &home, &token).args(&args), stdin);
        assert_eq!(ran.code, Some(0), "{args:?}: {ran:?}");
        assert!(ran.stderr.contains("debug:"));
        assert_no_secret(&ran, &[CANARY_PASSWORD, &token, &signature]);
        if args.contains(&"--code") {
            assert_no_secret(&ran, &[CANARY_CODE]);
        }
    }
    // Failures too: an error answer that echoes the password.
    let api = FakeApi::start(vec![Reply::problem(
        422,
        "PASSWORD_REJECTED",
        &format!("echoed {CANARY_PASSWORD}"),
    )]);
    let ran = run(
        against(&api, &home, &token).args([
            "--debug",
            "reset-user-password",
            "--target",
            "t",
            "--mode",
            "set",
            "--password-stdin",
        ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(254));
    assert_no_secret(&ran, &[CANARY_PASSWORD, &token]);
}

//! resetgate-cli end to end: the built CLI against the real function (under `cargo lambda
//! watch`, two instances) behind tests/support/apigw.py, with moto, the forgot-password code
//! checker and the stand-in behind it; and `check` against moto and the stand-in.
//!
//! Ignored in a plain `cargo test`: `cli/tests/e2e.sh` starts everything, runs these with
//! `--include-ignored`, one at a time, and stops everything. The caller is helen (the token
//! apigw.py signed): a helpdesk admin of every demo target with accounts of her own
//! (`cognito:username` helen, `custom:ad_username` dana.admin, `custom:finspace_user_id`
//! uid-alice-0001). Each test resets its own accounts, so the per-account rate limit (5 an
//! hour) is never reached.

mod common;

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::{
    config::Credentials,
    types::{AttributeDataType, SchemaAttributeType},
};
use common::{Ran, cli, now, run};
use serde_json::{Value, json};

const CANARY_PASSWORD: &str = "Canary-Pw-7f3kZq!x9-e2e";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run cli/tests/e2e.sh, which starts what these tests need")
    })
}

fn home(name: &str) -> PathBuf {
    let dir = PathBuf::from(var("RESETGATE_E2E_SCRATCH"))
        .join("homes")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn token() -> String {
    std::fs::read_to_string(var("RESETGATE_E2E_TOKEN_FILE"))
        .unwrap()
        .trim()
        .to_owned()
}

/// The CLI pointed at the local API Gateway with helen's token.
fn api(home: &std::path::Path) -> Command {
    let mut command = cli(home);
    command
        .env("RESETGATE_ENDPOINT_URL", var("RESETGATE_E2E_ENDPOINT"))
        .env("RESETGATE_TOKEN", token());
    command
}

fn json_out(ran: &Ran) -> Value {
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {ran:?}"))
}

/// One HTTP/1.1 exchange with a local control API: (status, JSON body).
fn http(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn standin(method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, value) = http(
        method,
        &format!("{}/_standin/{path}", var("RESETGATE_E2E_STANDIN_URL")),
        body,
    );
    assert_eq!(status, 200, "stand-in {path}: {value}");
    value
}

fn standin_calls(key: &str) -> u64 {
    standin("GET", "state", None)["calls"][key]
        .as_u64()
        .unwrap_or(0)
}

// ---- the API ---------------------------------------------------------------------------------

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn list_targets_in_every_output_format() {
    let home = home("list");
    let ran = run(api(&home).arg("list-targets"), None);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let listed = json_out(&ran);
    let names: Vec<&str> = listed["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app-users", "kiosk-users", "corp-ad", "research"]);

    let ran = run(api(&home).args(["list-targets", "--output", "yaml"]), None);
    let yaml: Value = serde_norway::from_str(&ran.stdout).unwrap();
    assert_eq!(yaml["targets"][2]["name"], "corp-ad");

    let ran = run(api(&home).args(["list-targets", "--output", "text"]), None);
    assert!(
        ran.stdout
            .lines()
            // A line per target, its scalars in key order (admin, confirm, name, self, service).
            .any(|l| l == "TARGETS\tTrue\tFalse\tcorp-ad\tTrue\tdirectory"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.lines().any(|l| l == "MODES\tcode"),
        "{}",
        ran.stdout
    );

    let ran = run(api(&home).args(["list-targets", "--output", "table"]), None);
    assert!(
        ran.stdout.contains("ListTargets") && ran.stdout.contains("| research"),
        "{}",
        ran.stdout
    );

    let ran = run(
        api(&home).args([
            "list-targets",
            "--query",
            "targets[?service=='cognito'].name",
            "--output",
            "text",
        ]),
        None,
    );
    assert_eq!(ran.stdout, "app-users\tkiosk-users\n");
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn a_self_service_generate_then_its_replay() {
    let home = home("self-generate");
    let key = format!("e2e-self-{}", now());
    let args = [
        "reset-user-password",
        "--target",
        "app-users",
        "--mode",
        "generate",
        "--client-token",
        &key,
    ];
    let ran = run(api(&home).args(args), None);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let first = json_out(&ran);
    assert_eq!(
        (first["username"].as_str(), first["mode"].as_str()),
        (Some("helen"), Some("generate"))
    );
    assert_eq!(first["mustChangeAtNextSignIn"], true);
    assert_eq!(first["clientToken"], key.as_str());
    let password = first["password"]
        .as_str()
        .expect("the generated password")
        .to_owned();
    assert!(password.len() >= 16);
    assert_eq!(ran.stdout.matches(&password).count(), 1);

    // The same command, the same token: the first answer again, without the password.
    let ran = run(api(&home).args(args), None);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let replay = json_out(&ran);
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["passwordDelivered"], "earlier");
    assert!(replay.get("password").is_none());
    assert!(!ran.all().contains(&password));
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn a_code_reset_confirmed_with_the_code_cognito_sent() {
    let home = home("confirm");
    let ran = run(
        api(&home).args([
            "reset-user-password",
            "--target",
            "app-users",
            "--mode",
            "code",
            "--output",
            "text",
            "--query",
            "delivery",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout, "verified_contact\n");
    let (status, code) = http(
        "GET",
        &format!(
            "{}/_codes/{}/helen",
            var("RESETGATE_E2E_CODES_URL"),
            var("RESETGATE_E2E_POOL_ID")
        ),
        None,
    );
    assert_eq!(status, 200, "{code}");
    let code = code["code"].as_str().unwrap().to_owned();

    let token = token();
    let ran = run(
        api(&home).args([
            "--debug",
            "confirm-password-reset",
            "--target",
            "app-users",
            "--code",
            &code,
            "--password-stdin",
        ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let confirmed = json_out(&ran);
    assert_eq!(confirmed["mode"], "confirm");
    assert_eq!(confirmed["username"], "helen");
    assert_eq!(confirmed["mustChangeAtNextSignIn"], false);
    for secret in [CANARY_PASSWORD, &code, &token] {
        assert!(
            !ran.all().contains(secret),
            "a secret was printed:\n{}",
            ran.all()
        );
    }

    // The code is spent: another confirm is the service's refusal, 254.
    let ran = run(
        api(&home).args([
            "confirm-password-reset",
            "--target",
            "app-users",
            "--code",
            &code,
            "--password-stdin",
        ]),
        Some(CANARY_PASSWORD),
    );
    assert_eq!(ran.code, Some(254), "{ran:?}");
    assert!(
        ran.stderr.contains(
            "An error occurred (INVALID_CODE) when calling the ConfirmPasswordReset operation"
        ),
        "{}",
        ran.stderr
    );
    assert!(!ran.all().contains(CANARY_PASSWORD) && !ran.all().contains(&code));
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn an_admin_set_in_a_table_never_shows_the_password_or_the_token() {
    let home = home("admin-set");
    let token = token();
    let ran = run(
        api(&home).args([
            "--debug",
            "reset-user-password",
            "--target",
            "app-users",
            "--user-name",
            "alice",
            "--mode",
            "set",
            "--password-stdin",
            "--output",
            "table",
        ]),
        Some(&format!("{CANARY_PASSWORD}\n")),
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.contains("ResetUserPassword") && ran.stdout.contains("alice"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr.contains("debug:") && ran.stderr.contains("\"password\":\"<redacted>\""),
        "{}",
        ran.stderr
    );
    for secret in [CANARY_PASSWORD, &token, token.split('.').nth(2).unwrap()] {
        assert!(
            !ran.all().contains(secret),
            "a secret was printed:\n{}",
            ran.all()
        );
    }
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn a_user_name_is_percent_encoded_and_answered_in_yaml() {
    let home = home("encoded");
    // A directory account whose name has a space: the path carries it as %20, once.
    standin(
        "POST",
        "seed",
        Some(&json!({"directories": {"d-1234567890": {"users": {"erin smith": {}}}}})),
    );
    let ran = run(
        api(&home).args([
            "reset-user-password",
            "--target",
            "corp-ad",
            "--user-name",
            "erin smith",
            "--mode",
            "generate",
            "--output",
            "yaml",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let answer: Value = serde_norway::from_str(&ran.stdout).unwrap();
    assert_eq!(answer["username"], "erin smith");
    assert_eq!(answer["target"], "corp-ad");
    let resets = standin("GET", "state", None)["directories"]["d-1234567890"]["users"]["erin smith"]["resets"].as_u64();
    assert_eq!(resets, Some(1));
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn query_text_prints_only_the_generated_password() {
    let home = home("query");
    let ran = run(
        api(&home).args([
            "reset-user-password",
            "--target",
            "app-users",
            "--user-name",
            "mallory",
            "--mode",
            "generate",
            "--query",
            "password",
            "--output",
            "text",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let line = ran.stdout.strip_suffix('\n').unwrap();
    assert!(
        line.len() >= 16 && !line.contains(['\t', ' ', '\n']),
        "{:?}",
        ran.stdout
    );
    assert!(!ran.stderr.contains(line));
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn a_skeleton_edited_and_fed_back_resets_on_the_directory() {
    let home = home("skeleton");
    let ran = run(
        cli(&home).args(["reset-user-password", "--generate-cli-skeleton"]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let mut input = json_out(&ran);
    let object = input.as_object_mut().unwrap();
    object.insert("target".into(), json!("corp-ad"));
    object.insert("userName".into(), json!("alice.smith"));
    object.insert("mode".into(), json!("generate"));
    object.remove("clientToken");
    object.remove("clientMetadata");
    let path = home.join("reset.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let before = standin("GET", "state", None)["directories"]["d-1234567890"]["users"]["alice.smith"]["resets"].as_u64().unwrap();
    let ran = run(
        api(&home)
            .arg("reset-user-password")
            .arg("--cli-input-json")
            .arg(format!("file://{}", path.display())),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let answer = json_out(&ran);
    assert_eq!(answer["username"], "alice.smith");
    assert_eq!(answer["target"], "corp-ad");
    assert!(answer["password"].is_string());
    let after = standin("GET", "state", None)["directories"]["d-1234567890"]["users"]["alice.smith"]["resets"].as_u64().unwrap();
    assert_eq!(after, before + 1, "one reset on the directory");
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn a_request_in_progress_is_retried_with_the_same_token_and_resets_once() {
    let home = home("in-progress");
    let key = format!("e2e-409-{}", now());
    let before = standin_calls("directory.ResetUserPassword");
    // The first request's reset is held 3 s at the directory.
    standin(
        "POST",
        "faults",
        Some(&json!({"operation": "ResetUserPassword", "service": "directory", "delayMs": 3000})),
    );
    let args = [
        "reset-user-password",
        "--target",
        "corp-ad",
        "--user-name",
        "bob.jones",
        "--mode",
        "generate",
        "--client-token",
        &key,
    ];
    let first = api(&home)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while standin_calls("directory.ResetUserPassword") == before {
        assert!(
            Instant::now() < deadline,
            "the first request never reached the directory"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The same token while the first is in progress: 409, retried after Retry-After.
    let second = run(
        api(&home)
            .env("RESETGATE_MAX_ATTEMPTS", "10")
            .arg("--debug")
            .args(args),
        None,
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert!(first["password"].is_string());

    assert_eq!(second.code, Some(0), "{second:?}");
    assert!(
        second.stderr.contains("< 409 Conflict"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("with the same idempotency key"),
        "{}",
        second.stderr
    );
    let keys: Vec<&str> = second
        .stderr
        .lines()
        .filter_map(|l| l.split("> idempotency-key: ").nth(1))
        .collect();
    assert!(
        keys.len() >= 2 && keys.iter().all(|k| *k == key),
        "{keys:?}"
    );
    let replay = json_out(&second);
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["passwordDelivered"], "earlier");
    assert_eq!(replay["clientToken"], key.as_str());
    assert_eq!(
        standin_calls("directory.ResetUserPassword"),
        before + 1,
        "one reset, however many attempts"
    );
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn finspace_self_service_in_text() {
    let home = home("finspace");
    let ran = run(
        api(&home).args([
            "reset-user-password",
            "--target",
            "research",
            "--mode",
            "generate",
            "--output",
            "text",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let fields: Vec<&str> = ran.stdout.trim_end().split('\t').collect();
    assert!(
        fields.contains(&"uid-alice-0001") && fields.contains(&"research"),
        "{}",
        ran.stdout
    );
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn exit_codes_of_refusals_tokens_and_usage() {
    let home = home("exit-codes");
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec![
                "reset-user-password",
                "--target",
                "app-users",
                "--user-name",
                "nobody-here",
                "--mode",
                "generate",
            ],
            None,
            "(USER_NOT_FOUND)",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "app-users",
                "--user-name",
                "bob",
                "--mode",
                "set",
                "--password-stdin",
            ],
            Some("password1"),
            "(PASSWORD_REJECTED)",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "kiosk-users",
                "--user-name",
                "bob",
                "--mode",
                "code",
            ],
            None,
            "(MODE_NOT_SUPPORTED)",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "app-users",
                "--user-name",
                "break-glass",
                "--mode",
                "generate",
            ],
            None,
            "(TARGET_NOT_ELIGIBLE)",
        ),
        (
            vec![
                "reset-user-password",
                "--target",
                "no-such-target",
                "--mode",
                "generate",
            ],
            None,
            "(UNKNOWN_TARGET)",
        ),
    ];
    for (args, stdin, code) in cases {
        let ran = run(api(&home).args(&args), stdin);
        assert_eq!(ran.code, Some(254), "{args:?}: {ran:?}");
        assert!(
            ran.stderr.contains(&format!(
                "An error occurred {code} when calling the ResetUserPassword operation"
            )),
            "{args:?}: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains("requestId: "), "{}", ran.stderr);
        if let Some(password) = stdin {
            assert!(ran.stderr.contains("reason: blocklisted"), "{}", ran.stderr);
            assert!(!ran.all().contains(password));
        }
    }
    // A token API Gateway does not accept (its signature is not the issuer's): 253.
    let forged = common::jwt(now() + 3600, "forged");
    let ran = run(
        api(&home)
            .env("RESETGATE_TOKEN", &forged)
            .arg("list-targets"),
        None,
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
    assert!(
        ran.stderr.contains("the API refused the token"),
        "{}",
        ran.stderr
    );
    // A usage error sends nothing: 252.
    let ran = run(
        api(&home).args([
            "reset-user-password",
            "--target",
            "app-users",
            "--mode",
            "set",
        ]),
        None,
    );
    assert_eq!(ran.code, Some(252), "{ran:?}");
}

// ---- check -----------------------------------------------------------------------------------

async fn aws() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(var("RESETGATE_E2E_MOTO_URL"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "e2e"))
        .load()
        .await
}

/// A pool with `custom:ad_username`, a portal client, and a recovery client with a secret.
struct Pool {
    id: String,
    portal: String,
    recovery: String,
    recovery_secret: String,
}

async fn pool(name: &str, portal_writes: &[&str]) -> Pool {
    let config = aws().await;
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&config);
    let id = idp
        .create_user_pool()
        .pool_name(name)
        .schema(
            SchemaAttributeType::builder()
                .name("ad_username")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let mut portal = idp
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("portal");
    for attribute in portal_writes {
        portal = portal.write_attributes(*attribute);
    }
    let portal = portal
        .send()
        .await
        .unwrap()
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned();
    let recovery = idp
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("recovery")
        .generate_secret(true)
        .send()
        .await
        .unwrap();
    let recovery = recovery.user_pool_client().unwrap();
    Pool {
        id,
        portal,
        recovery: recovery.client_id().unwrap().to_owned(),
        recovery_secret: recovery.client_secret().unwrap().to_owned(),
    }
}

async fn secret(name: &str, value: &str) -> String {
    let config = aws().await;
    aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(format!("{name}-{}", now()))
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned()
}

/// `resetgate-cli check` with moto and the stand-in as AWS.
fn check(home: &std::path::Path, document: &Value, extra: &[&str]) -> Ran {
    let path = home.join("resetgate.json");
    std::fs::write(&path, serde_json::to_string_pretty(document).unwrap()).unwrap();
    let mut command = cli(home);
    command
        .env("AWS_ENDPOINT_URL", var("RESETGATE_E2E_MOTO_URL"))
        .env(
            "AWS_ENDPOINT_URL_DIRECTORY_SERVICE",
            var("RESETGATE_E2E_STANDIN_URL"),
        )
        .env(
            "AWS_ENDPOINT_URL_FINSPACE",
            var("RESETGATE_E2E_STANDIN_URL"),
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg("check")
        .arg("--config")
        .arg(&path)
        .args(extra);
    run(&mut command, None)
}

fn document(pool: &Pool, secret_arn: &str) -> Value {
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{}", pool.id);
    json!({
        "targets": [
            {"name": "staff", "service": "cognito", "userPoolId": pool.id, "usernameClaim": "cognito:username",
             "adminGroups": ["helpdesk"], "modes": ["code", "generate"],
             "recoveryClientId": pool.recovery, "recoveryClientSecretArn": secret_arn},
            {"name": "corp-ad", "service": "directory", "directoryId": "d-1234567890",
             "usernameClaim": "custom:ad_username", "adminGroups": ["ad-helpdesk"], "modes": ["generate"],
             "trustedIssuers": [issuer]}
        ],
        "idempotency": {"table": "resetgate-idempotency"},
        "trustedClientIds": [pool.portal]
    })
}

/// `(section, check) -> status` of a check report.
fn statuses(report: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut add = |section: &Value, name: &str| {
        for check in section["checks"].as_array().unwrap() {
            out.push((
                name.to_owned(),
                check["check"].as_str().unwrap().to_owned(),
                check["status"].as_str().unwrap().to_owned(),
            ));
        }
    };
    add(&report["deployment"], "deployment");
    for target in report["targets"].as_array().unwrap() {
        add(target, target["target"].as_str().unwrap());
    }
    out
}

fn status_of<'a>(all: &'a [(String, String, String)], section: &str, check: &str) -> Vec<&'a str> {
    all.iter()
        .filter(|(s, c, _)| s == section && c == check)
        .map(|(_, _, st)| st.as_str())
        .collect()
}

#[tokio::test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
async fn check_passes_a_safe_deployment_and_prints_no_secret() {
    let home = home("check-safe");
    let pool = pool("check-safe", &["email", "name"]).await;
    let recovery_arn = secret("recovery", &pool.recovery_secret).await;
    let hmac = "hmac-canary-0123456789-abcdefghijklmnop";
    let hmac_arn = secret("hmac", hmac).await;
    let ran = check(
        &home,
        &document(&pool, &recovery_arn),
        &["--hmac-key-secret-arn", &hmac_arn, "--debug"],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let report = json_out(&ran);
    let all = statuses(&report);
    assert!(
        all.iter().all(|(_, _, s)| s == "PASS"),
        "{all:?}\n{}",
        ran.stdout
    );
    for (section, check) in [
        ("deployment", "document"),
        ("deployment", "trustedClientIds"),
        ("deployment", "table"),
        ("deployment", "tableTtl"),
        ("deployment", "hmacKeySecret"),
        ("staff", "userPool"),
        ("staff", "recoveryClient"),
        ("staff", "recoveryClientSecret"),
        ("staff", "usernameClaim"),
        ("corp-ad", "directory"),
        ("corp-ad", "directoryType"),
        ("corp-ad", "directoryData"),
        ("corp-ad", "usernameClaim"),
    ] {
        assert_eq!(
            status_of(&all, section, check),
            ["PASS"],
            "{section} {check}: {}",
            ran.stdout
        );
    }
    assert_eq!(report["status"], "PASS");
    for secret in [hmac, pool.recovery_secret.as_str()] {
        assert!(
            !ran.all().contains(secret),
            "a secret was printed:\n{}",
            ran.all()
        );
    }
    // The same report as a table and as text.
    let ran = check(
        &home,
        &document(&pool, &recovery_arn),
        &["--output", "table"],
    );
    assert!(
        ran.stdout.contains("Check")
            && ran.stdout.contains("PASS")
            && ran.stdout.contains("corp-ad"),
        "{}",
        ran.stdout
    );
    let ran = check(
        &home,
        &document(&pool, &recovery_arn),
        &["--output", "text", "--query", "targets[].[target, status]"],
    );
    assert_eq!(ran.stdout, "staff\tPASS\ncorp-ad\tPASS\n");
}

#[tokio::test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
async fn check_fails_an_app_client_that_can_write_the_username_claim() {
    let home = home("check-unsafe");
    let pool = pool("check-unsafe", &["email", "custom:ad_username"]).await;
    let recovery_arn = secret("recovery-unsafe", &pool.recovery_secret).await;
    let ran = check(&home, &document(&pool, &recovery_arn), &[]);
    assert_eq!(ran.code, Some(254), "{ran:?}");
    let report = json_out(&ran);
    assert_eq!(report["status"], "FAIL");
    let corp = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "corp-ad")
        .unwrap();
    assert_eq!(corp["status"], "FAIL");
    let claim = corp["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "usernameClaim")
        .unwrap();
    assert_eq!(claim["status"], "FAIL");
    let reason = claim["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("app client portal ({})", pool.portal))
            && reason.contains("can write `custom:ad_username`"),
        "{reason}"
    );
    // The cognito target itself (cognito:username) is unaffected.
    let staff = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "staff")
        .unwrap();
    assert_eq!(staff["status"], "PASS", "{staff}");

    // A recovery secret that is not the client's is a FAIL too, and so is a client that needs one.
    let wrong = secret("recovery-wrong", "not-the-client-secret").await;
    let ran = check(
        &home,
        &document(&pool, &wrong),
        &[
            "--query",
            "targets[?target=='staff'] | [0].checks[?check=='recoveryClientSecret'] | [0].status",
            "--output",
            "text",
        ],
    );
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (Some(254), "FAIL\n"),
        "{ran:?}"
    );
    let mut without = document(&pool, &recovery_arn);
    without["targets"][0]
        .as_object_mut()
        .unwrap()
        .remove("recoveryClientSecretArn");
    let ran = check(
        &home,
        &without,
        &[
            "--query",
            "targets[0].checks[?check=='recoveryClient'] | [0].reason",
            "--output",
            "text",
        ],
    );
    assert_eq!(ran.code, Some(254), "{ran:?}");
    assert!(ran.stdout.contains("has a secret"), "{}", ran.stdout);
}

#[tokio::test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
async fn check_fails_directory_service_data_disabled_and_simple_ad_that_refuses_disabled() {
    let home = home("check-standin");
    standin(
        "POST",
        "seed",
        Some(&json!({"directories": {
            "d-00000000d1": {"kind": "MicrosoftAD", "dsData": false, "users": {"x": {}}},
            "d-00000000d2": {"kind": "SimpleAD", "users": {"y": {}}}
        }})),
    );
    let document = json!({
        "targets": [
            {"name": "no-data", "service": "directory", "directoryId": "d-00000000d1", "usernameClaim": "custom:ad_username", "adminGroups": ["ad-helpdesk"], "modes": ["generate"]},
            {"name": "simple", "service": "directory", "directoryId": "d-00000000d2", "usernameClaim": "custom:ad_username", "adminGroups": ["ad-helpdesk"], "modes": ["generate"]},
            {"name": "gone", "service": "directory", "directoryId": "d-00000000ff", "usernameClaim": "custom:ad_username", "modes": ["generate"]},
            {"name": "research", "service": "finspace", "environmentId": "abcdef0123456789abcdef", "usernameClaim": "custom:finspace_user_id", "modes": ["generate"]},
            {"name": "old-research", "service": "finspace", "environmentId": "nosuchenvironment1", "usernameClaim": "custom:finspace_user_id", "modes": ["generate"]}
        ],
        "idempotency": {"table": "resetgate-idempotency"}
    });
    let ran = check(&home, &document, &[]);
    assert_eq!(ran.code, Some(254), "{ran:?}");
    let report = json_out(&ran);
    let all = statuses(&report);
    assert_eq!(status_of(&all, "no-data", "directory"), ["PASS"]);
    assert_eq!(status_of(&all, "no-data", "directoryData"), ["FAIL"]);
    let reason = report["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "directoryData")
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("Directory Service Data is Disabled")
            && reason.contains("aws ds enable-directory-data-access --directory-id d-00000000d1"),
        "{reason}"
    );
    assert_eq!(status_of(&all, "simple", "directoryType"), ["FAIL"]);
    assert!(
        status_of(&all, "simple", "directoryData").is_empty(),
        "Simple AD is not asked about Directory Service Data"
    );
    assert_eq!(status_of(&all, "gone", "directory"), ["FAIL"]);
    assert_eq!(status_of(&all, "research", "environment"), ["PASS"]);
    assert_eq!(status_of(&all, "old-research", "environment"), ["FAIL"]);
    assert_eq!(
        status_of(&all, "no-data", "trustedIssuers"),
        ["WARN"],
        "no trustedIssuers: any issuer"
    );
    assert_eq!(status_of(&all, "deployment", "document"), ["PASS"]);

    // Simple AD with refuseDisabled false works, with its weakness said: WARN, not FAIL.
    let mut simple = document.clone();
    simple["targets"] = json!([document["targets"][1].clone()]);
    simple["targets"][0]["refuseDisabled"] = json!(false);
    let ran = check(&home, &simple, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(json_out(&ran)["status"], "WARN");
}

#[test]
#[ignore = "needs the emulators: run cli/tests/e2e.sh"]
fn check_fails_a_document_the_function_would_refuse() {
    let home = home("check-invalid");
    let document = json!({
        "targets": [{"name": "Bad Name", "service": "directory", "directoryId": "d-1234567890", "usernameClaim": "custom:ad_username", "modes": ["generate"]}],
        "idempotency": {"table": "resetgate-idempotency"}
    });
    let ran = check(&home, &document, &[]);
    assert_eq!(ran.code, Some(254), "{ran:?}");
    let report = json_out(&ran);
    let finding = &report["deployment"]["checks"][0];
    assert_eq!(
        (finding["check"].as_str(), finding["status"].as_str()),
        (Some("document"), Some("FAIL"))
    );
    assert!(
        finding["reason"]
            .as_str()
            .unwrap()
            .contains("must be a slug"),
        "{finding}"
    );
    // What can still be checked is: the directory exists.
    assert_eq!(
        report["targets"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "directory")
            .unwrap()["status"],
        "PASS"
    );

    let ran = run(
        cli(&home).args(["check", "--config", "/nonexistent/resetgate.json"]),
        None,
    );
    assert_eq!(ran.code, Some(253), "{ran:?}");
}

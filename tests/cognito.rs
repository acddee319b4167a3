//! The Cognito slice end to end: the real handler and the real SDK against moto's server, with
//! each user's real state asserted after every call.

mod support;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::UserStatusType;
use resetgate::App;
use serde_json::{Value, json};
use support::cognito::{Pool, SignIn, seed_password};

struct Answer {
    status: u16,
    headers: std::collections::BTreeMap<String, String>,
    body: Value,
}

/// The app over moto's DynamoDB, with adapters from `cognito_sdk`.
async fn app(config: &str, cognito_sdk: &SdkConfig, moto_sdk: &SdkConfig) -> App {
    support::app(
        config,
        cognito_sdk,
        &aws_sdk_dynamodb::Client::new(moto_sdk),
    )
    .await
    .0
}

async fn invoke(app: &App, event: &Value) -> Answer {
    let mut context = lambda_http::Context::default();
    context.request_id = "it-request".into();
    let response = app.handle_event(&event.to_string(), &context).await;
    let value = serde_json::to_value(&response).expect("serialisable");
    Answer {
        status: response.status_code,
        headers: response
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        body: serde_json::from_str(value["body"].as_str().expect("body")).expect("json body"),
    }
}

/// An HTTP API 2.0 event by `claims` to `path` with `body` and a fresh idempotency key.
fn request(path: &str, claims: Value, body: Value) -> Value {
    let mut event = support::http_api_event(path, claims, &body.to_string());
    event["headers"]["idempotency-key"] = format!("it-{}", rand_suffix()).into();
    event
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn alice() -> Value {
    json!({"sub": "sub-alice", "cognito:username": "alice"})
}
fn helen() -> Value {
    json!({"sub": "sub-helen", "cognito:username": "helen", "cognito:groups": "[helpdesk]"})
}
fn mallory() -> Value {
    json!({"sub": "sub-mallory", "cognito:username": "mallory", "cognito:groups": "[superhelpdesk helpdesk-readonly]"})
}

const OWN: &str = "/v1/targets/app-users/password-reset";
fn user_path(name: &str) -> String {
    format!("/v1/targets/app-users/users/{name}/password-reset")
}

struct World {
    _moto: std::sync::Arc<support::Moto>,
    sdk: SdkConfig,
    pool: Pool,
    app: App,
}

async fn world() -> World {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool = Pool::create(&sdk).await;
    let app = app(&pool.config(), &sdk, &sdk).await;
    World {
        _moto: moto,
        sdk,
        pool,
        app,
    }
}

#[tokio::test]
async fn generate_sets_a_temporary_password_that_signs_in_once() {
    let w = world().await;
    let answer = invoke(&w.app, &request(OWN, alice(), json!({"mode": "generate"}))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["mustChangeAtNextSignIn"], true);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let password = answer.body["password"].as_str().expect("password returned");
    assert_eq!(
        w.pool.status("alice").await,
        UserStatusType::ForceChangePassword
    );
    assert_eq!(
        w.pool.sign_in("alice", password).await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    assert_ne!(
        w.pool.sign_in("alice", &seed_password("alice")).await,
        SignIn::Tokens
    );
}

#[tokio::test]
async fn code_puts_the_user_in_reset_required() {
    let w = world().await;
    let answer = invoke(
        &w.app,
        &request(
            OWN,
            alice(),
            json!({"mode": "code", "clientMetadata": {"portal": "it"}}),
        ),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["delivery"], "verified_contact");
    assert!(answer.body.get("password").is_none());
    assert_eq!(w.pool.status("alice").await, UserStatusType::ResetRequired);
}

#[tokio::test]
async fn set_makes_the_chosen_password_permanent() {
    let w = world().await;
    let chosen = "Violet-Lantern-Passw0rd-88!";
    let answer = invoke(
        &w.app,
        &request(OWN, alice(), json!({"mode": "set", "password": chosen})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["mustChangeAtNextSignIn"], false);
    assert!(
        answer.body.get("password").is_none(),
        "a chosen password is never echoed"
    );
    assert_eq!(w.pool.status("alice").await, UserStatusType::Confirmed);
    assert_eq!(w.pool.sign_in("alice", chosen).await, SignIn::Tokens);
}

#[tokio::test]
async fn an_admin_resets_another_user() {
    let w = world().await;
    let answer = invoke(
        &w.app,
        &request(&user_path("bob"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["username"], "bob");
    assert_eq!(
        w.pool.status("bob").await,
        UserStatusType::ForceChangePassword
    );
    assert_eq!(w.pool.status("helen").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let w = world().await;
    /// A request that must be refused, and why.
    struct Case<'a> {
        why: &'a str,
        claims: Value,
        path: String,
        body: Value,
        status: u16,
        code: &'a str,
    }
    let cases = vec![
        Case {
            why: "A non-admin naming another user, in every mode",
            claims: mallory(),
            path: user_path("bob"),
            body: json!({"mode": "generate"}),
            status: 403,
            code: "FORBIDDEN",
        },
        Case {
            why: "A non-admin naming another user, in every mode",
            claims: mallory(),
            path: user_path("bob"),
            body: json!({"mode": "code"}),
            status: 403,
            code: "FORBIDDEN",
        },
        Case {
            why: "A non-admin naming another user, in every mode",
            claims: alice(),
            path: user_path("bob"),
            body: json!({"mode": "set", "password": "Takeover-Passw0rd-1!"}),
            status: 403,
            code: "FORBIDDEN",
        },
        Case {
            why: "Protected, whatever the case",
            claims: helen(),
            path: user_path("break-glass"),
            body: json!({"mode": "generate"}),
            status: 422,
            code: "TARGET_NOT_ELIGIBLE",
        },
        Case {
            why: "Protected, whatever the case",
            claims: helen(),
            path: user_path("BREAK-GLASS"),
            body: json!({"mode": "generate"}),
            status: 422,
            code: "TARGET_NOT_ELIGIBLE",
        },
        Case {
            why: "Our policy, before any call",
            claims: helen(),
            path: user_path("bob"),
            body: json!({"mode": "set", "password": "short"}),
            status: 422,
            code: "PASSWORD_REJECTED",
        },
    ];
    for Case {
        claims,
        path,
        body,
        status,
        code,
        why,
    } in cases
    {
        let answer = invoke(&w.app, &request(&path, claims, body.clone())).await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{why}: {path} {body}"
        );
    }
    for user in ["bob", "break-glass"] {
        assert_eq!(
            w.pool.status(user).await,
            UserStatusType::Confirmed,
            "{user}"
        );
        assert_eq!(
            w.pool.sign_in(user, &seed_password(user)).await,
            SignIn::Tokens,
            "{user}"
        );
    }
}

#[tokio::test]
async fn back_end_answers_map_to_the_contract() {
    let w = world().await;
    // Unknown user.
    let answer = invoke(
        &w.app,
        &request(&user_path("nobody"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (404, Some("USER_NOT_FOUND"))
    );

    // The pool's own policy (symbols required) refuses a password ours accepts.
    let answer = invoke(
        &w.app,
        &request(
            OWN,
            alice(),
            json!({"mode": "set", "password": "NoSymbolsHere12345"}),
        ),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (422, Some("PASSWORD_REJECTED")),
        "{}",
        answer.body
    );
    assert_eq!(answer.body["reason"], "policy");
    assert_eq!(
        w.pool.sign_in("alice", &seed_password("alice")).await,
        SignIn::Tokens
    );

    // A disabled account is not reset.
    w.pool.disable("bob").await;
    let answer = invoke(
        &w.app,
        &request(&user_path("bob"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (422, Some("TARGET_NOT_ELIGIBLE"))
    );
}

#[tokio::test]
async fn a_missing_pool_is_an_internal_error_without_details() {
    let w = world().await;
    let config = w
        .pool
        .config()
        .replace(&w.pool.id, "us-east-1_0000000000000000000000000000dead");
    let broken = app(&config, &w.sdk, &w.sdk).await;
    let answer = invoke(&broken, &request(OWN, alice(), json!({"mode": "generate"}))).await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (500, Some("INTERNAL"))
    );
    assert!(!answer.body.to_string().contains("ResourceNotFound"));
    assert_eq!(answer.body["requestId"], "it-request");
}

#[tokio::test]
async fn an_unreachable_cognito_is_503_with_retry_after() {
    // Nothing serves this endpoint: every attempt fails to connect.
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let sdk = support::sdk_config(&support::unreachable_endpoint()).await;
    let config = include_str!("../config/demo.json")
        .replace("${USER_POOL_ID}", "us-east-1_Unreachable1")
        .replace("${RECOVERY_CLIENT_ID}", "unreachableclient1");
    let answer = invoke(
        &app(&config, &sdk, &moto_sdk).await,
        &request(OWN, alice(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (503, Some("UPSTREAM_UNAVAILABLE"))
    );
    assert!(answer.headers["retry-after"].parse::<u64>().is_ok());
}

/// The helpdesk climb, on moto's real groups: a helpdesk member and a member of another
/// target's admin group are privileged; a helpdesk seat gets 422 and their passwords still
/// work. Their own self-service reset does not change.
#[tokio::test]
async fn a_helpdesk_seat_cannot_take_over_another_admin() {
    let w = world().await;
    w.pool.add_user("adam").await;
    w.pool.add_to_group("adam", "ad-helpdesk").await;
    w.pool.add_to_group("bob", "staff").await;

    // config/demo.json trusts the sample events' issuer, not moto's pool: `helpdesk` is listed
    // in `protectedGroups`. A configuration with the default issuer (the pool's own) protects
    // every target's admin group without a list.
    let mut default_issuers: Value = serde_json::from_str(&w.pool.config()).expect("config");
    for target in default_issuers["targets"].as_array_mut().expect("targets") {
        let target = target.as_object_mut().expect("target");
        target.remove("trustedIssuers");
        target.remove("protectedGroups");
    }
    let default_issuers = default_issuers.to_string();
    let by_default = app(&default_issuers, &w.sdk, &w.sdk).await;
    for (app, name) in [
        (&w.app, "hank"),
        (&by_default, "hank"),
        (&by_default, "adam"),
    ] {
        let answer = invoke(
            app,
            &request(&user_path(name), helen(), json!({"mode": "generate"})),
        )
        .await;
        assert_eq!(answer.status, 422, "{name}: {}", answer.body);
        assert_eq!(answer.body["code"], "TARGET_NOT_ELIGIBLE");
        assert_eq!(w.pool.status(name).await, UserStatusType::Confirmed);
        assert_eq!(
            w.pool.sign_in(name, &seed_password(name)).await,
            SignIn::Tokens
        );
    }
    // bob, in an ordinary group, is reset.
    let answer = invoke(
        &by_default,
        &request(&user_path("bob"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // hank's own reset, with a token of the pool.
    let hank = json!({"sub": "sub-hank", "iss": w.pool.issuer(), "cognito:username": "hank", "cognito:groups": "[helpdesk]"});
    let answer = invoke(
        &by_default,
        &request(OWN, hank, json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        w.pool.status("hank").await,
        UserStatusType::ForceChangePassword
    );
}

/// Two pools behind one authorizer: pool B's `bob` cannot reset pool A's `bob`.
#[tokio::test]
async fn a_username_claim_counts_only_from_the_targets_own_pool() {
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let pool_a = Pool::create(&sdk).await;
    let pool_b = Pool::create(&sdk).await;
    let config = format!(
        r#"{{"targets": [
            {{"name": "pool-a", "service": "cognito", "userPoolId": "{a}", "usernameClaim": "cognito:username",
              "modes": ["generate"]}},
            {{"name": "pool-b", "service": "cognito", "userPoolId": "{b}", "usernameClaim": "cognito:username",
              "modes": ["generate"]}}],
          "idempotency": {{"table": "resetgate-test"}}}}"#,
        a = pool_a.id,
        b = pool_b.id
    );
    let app = app(&config, &sdk, &sdk).await;
    let bob_of_b = json!({"sub": "sub-bob-b", "iss": pool_b.issuer(), "cognito:username": "bob"});
    let answer = invoke(
        &app,
        &request(
            "/v1/targets/pool-a/password-reset",
            bob_of_b.clone(),
            json!({"mode": "generate"}),
        ),
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(
        pool_a.sign_in("bob", &seed_password("bob")).await,
        SignIn::Tokens
    );

    let answer = invoke(
        &app,
        &request(
            "/v1/targets/pool-b/password-reset",
            bob_of_b,
            json!({"mode": "generate"}),
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        pool_b.status("bob").await,
        UserStatusType::ForceChangePassword
    );
    assert_eq!(pool_a.status("bob").await, UserStatusType::Confirmed);
}

/// The deployment's keyed-hash secret comes from Secrets Manager (moto), once.
#[tokio::test]
async fn the_hmac_key_is_read_from_secrets_manager() {
    use resetgate::config::HmacKeySource;
    use secrecy::ExposeSecret;
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let value = "secrets-manager-hmac-key-0123456789abcdef";
    let name = format!("resetgate-hmac-{}", rand_suffix());
    let arn = secrets
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create_secret")
        .arn()
        .expect("arn")
        .to_owned();
    let key = HmacKeySource::SecretsManager {
        secret_id: arn.clone(),
    }
    .resolve(&secrets)
    .await
    .expect("key");
    assert_eq!(key.expose_secret(), value);
    // A deployment that names a missing secret stops its init, naming the variable.
    let error = HmacKeySource::SecretsManager {
        secret_id: format!("{arn}-missing"),
    }
    .resolve(&secrets)
    .await
    .expect_err("missing");
    assert!(
        error.to_string().contains("RESETGATE_HMAC_KEY_SECRET_ARN"),
        "{error}"
    );
    // A short secret is refused as a short key is.
    let short = format!("{name}-short");
    secrets
        .create_secret()
        .name(&short)
        .secret_string("too-short")
        .send()
        .await
        .expect("create");
    let key = HmacKeySource::SecretsManager { secret_id: short }
        .resolve(&secrets)
        .await
        .expect("read");
    let pool_config = include_str!("../config/demo.json");
    assert!(resetgate::Config::parse(pool_config, key).is_err());
}

/// The breached-password screen, on moto: `Summer2024!` (a breached base with a year and a
/// symbol appended) is refused before Cognito sees it, and alice's password is unchanged; a
/// guessable one gets `weak` and a suggestion.
#[tokio::test]
async fn breached_and_guessable_passwords_never_reach_cognito() {
    let w = world().await;
    for (password, reason) in [("Summer2024!", "blocklisted"), ("zyxwvutsrqponmlk", "weak")] {
        let answer = invoke(
            &w.app,
            &request(OWN, alice(), json!({"mode": "set", "password": password})),
        )
        .await;
        assert_eq!(answer.status, 422, "{password}: {}", answer.body);
        assert_eq!(answer.body["code"], "PASSWORD_REJECTED");
        assert_eq!(answer.body["reason"], reason, "{password}");
        assert!(!answer.body.to_string().contains(password));
        assert_eq!(w.pool.status("alice").await, UserStatusType::Confirmed);
        assert_eq!(
            w.pool.sign_in("alice", &seed_password("alice")).await,
            SignIn::Tokens
        );
        assert_ne!(w.pool.sign_in("alice", password).await, SignIn::Tokens);
    }
}

/// After a reset that changes the password, the user's refresh tokens stop working
/// (`AdminUserGlobalSignOut`), also after an admin's reset of a compromised account; a target
/// with `"revokeSessions": false` leaves them, and `code` (no password changed yet) too.
#[tokio::test]
async fn a_reset_ends_the_users_sessions_unless_the_target_opts_out() {
    let w = world().await;
    let token = w.pool.refresh_token("alice", &seed_password("alice")).await;
    assert!(
        w.pool.refreshes(&token).await,
        "a fresh refresh token works"
    );

    let code = invoke(&w.app, &request(OWN, alice(), json!({"mode": "code"}))).await;
    assert_eq!(code.status, 202, "{}", code.body);
    assert!(code.body.get("sessionsRevoked").is_none(), "{}", code.body);
    assert!(w.pool.refreshes(&token).await, "a code signs nobody out");

    let generate = invoke(&w.app, &request(OWN, alice(), json!({"mode": "generate"}))).await;
    assert_eq!(generate.status, 200, "{}", generate.body);
    assert_eq!(generate.body["sessionsRevoked"], true, "{}", generate.body);
    assert!(
        !w.pool.refreshes(&token).await,
        "the old session ends with the reset"
    );

    // An admin's reset of bob ends bob's sessions.
    let bobs = w.pool.refresh_token("bob", &seed_password("bob")).await;
    let admin = invoke(
        &w.app,
        &request(&user_path("bob"), helen(), json!({"mode": "generate"})),
    )
    .await;
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(admin.body["sessionsRevoked"], true);
    assert!(!w.pool.refreshes(&bobs).await);

    // A target that opts out keeps them.
    let moto = support::moto();
    let sdk = support::sdk_config(&moto.endpoint).await;
    let mut config: Value = serde_json::from_str(&w.pool.config()).expect("json");
    config["targets"][0]["revokeSessions"] = false.into();
    let kept = app(&config.to_string(), &sdk, &sdk).await;
    let mallorys = w
        .pool
        .refresh_token("mallory", &seed_password("mallory"))
        .await;
    let answer = invoke(&kept, &request(OWN, mallory(), json!({"mode": "generate"}))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.get("sessionsRevoked").is_none(),
        "{}",
        answer.body
    );
    assert!(
        w.pool.refreshes(&mallorys).await,
        "revokeSessions: false keeps them"
    );
}

//! The same contract scenarios against all three services, end to end: the real handler and
//! the real SDK clients, Cognito on moto, Directory Service, Directory Service Data and
//! FinSpace on the project's stand-in, idempotency records on moto's DynamoDB.

mod support;

use std::{sync::Arc, time::Duration};

use aws_config::{SdkConfig, timeout::TimeoutConfig};
use resetgate::App;
use serde_json::{Value, json};
use support::{
    Server,
    cognito::{Pool, SignIn, seed_password},
    standin,
};

/// One service's part in the shared table.
struct Service {
    target: &'static str,
    /// The claim naming the caller's own account, and its value.
    own: (&'static str, &'static str),
    admin_group: &'static str,
    other: &'static str,
    protected: &'static str,
    /// A password the back-end's own policy refuses while ours accepts it, if `set` exists.
    weak_for_back_end: Option<&'static str>,
}

const COGNITO: Service = Service {
    target: "app-users",
    own: ("cognito:username", "alice"),
    admin_group: "helpdesk",
    other: "bob",
    protected: "break-glass",
    weak_for_back_end: Some("NoSymbolsHere12345"),
};
const DIRECTORY: Service = Service {
    target: "corp-ad",
    own: ("custom:ad_username", "alice.smith"),
    admin_group: "ad-helpdesk",
    other: "bob.jones",
    protected: "Administrator",
    weak_for_back_end: Some("alllowercaseletters"),
};
const FINSPACE: Service = Service {
    target: "research",
    own: ("custom:finspace_user_id", "uid-alice-0001"),
    admin_group: "finspace-admins",
    other: "uid-bob-0002",
    protected: "uid-root-0000",
    weak_for_back_end: None,
};

struct World {
    _moto: Arc<Server>,
    standin: Arc<Server>,
    pool: Pool,
    directory: String,
    simple_directory: String,
    /// A Managed Microsoft AD whose Directory Service Data is not enabled.
    dark_directory: String,
    environment: String,
    app: App,
}

fn unique(prefix: &str, digits: usize) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + u64::from(std::process::id()) * 1000;
    format!("{prefix}{:0digits$x}", n % 16u64.pow(digits.min(15) as u32))
}

/// SDK configuration for the stand-in, with short timeouts so retries are quick.
async fn standin_sdk(server: &Server) -> SdkConfig {
    let sdk = support::sdk_config(&server.endpoint).await;
    sdk.into_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(800))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .build()
}

async fn world_with(standin: Arc<Server>) -> World {
    let moto = support::moto();
    let moto_sdk = support::sdk_config(&moto.endpoint).await;
    let standin_sdk = standin_sdk(&standin).await;
    let pool = Pool::create(&moto_sdk).await;
    let directory = unique("d-", 10);
    let simple_directory = unique("d-", 10);
    let dark_directory = unique("d-", 10);
    let environment = unique("env", 20);
    standin::seed(
        &standin,
        &json!({
            "directories": {
                &directory: {"kind": "MicrosoftAD", "minLength": 7, "dsData": true,
                  "groups": {
                    "Domain Admins": {}, "AWS Delegated Administrators": {}, "Staff": {},
                    "IT Ops": {"memberOf": ["Domain Admins"]}, "Payroll Admins": {}
                  },
                  "users": {
                    "alice.smith": {"enabled": true}, "bob.jones": {"enabled": true, "memberOf": ["Staff"]},
                    "dana.admin": {"enabled": true}, "carol.former": {"enabled": false},
                    "erin.elsewhere": {"enabled": true, "outsideOu": true},
                    "Administrator": {"enabled": true, "admin": true, "memberOf": ["Domain Admins"]},
                    "Admin": {"enabled": true, "memberOf": ["AWS Delegated Administrators"]},
                    "ivan.ops": {"enabled": true, "memberOf": ["Staff", "IT Ops"]},
                    "paula.pay": {"enabled": true, "memberOf": ["Payroll Admins"]}
                }},
                &simple_directory: {"kind": "SimpleAD", "minLength": 7, "dsData": false, "users": {
                    "gina.simple": {"enabled": false}, "hank.admin": {"enabled": true, "admin": true},
                    "Administrator": {"enabled": true}
                }},
                &dark_directory: {"kind": "MicrosoftAD", "minLength": 7, "dsData": false, "users": {
                    "alice.smith": {"enabled": true}
                }}
            },
            "finspace": {"environments": [&environment], "users": {
                "uid-alice-0001": {}, "uid-bob-0002": {},
                "uid-super-0003": {"type": "SUPER_USER"}, "uid-gone-0004": {"status": "DISABLED"},
                // An ordinary user: only the target's `protectedUsers` protects it.
                "uid-root-0000": {}
            }}
        }),
    );
    let mut config: Value =
        serde_json::from_str(&pool.config().replace("d-1234567890", &directory)).expect("config");
    for target in config["targets"].as_array_mut().expect("targets") {
        if target["service"] == "finspace" {
            target["environmentId"] = environment.clone().into();
            target["protectedUsers"] = json!(["uid-root-0000"]);
        }
        if target["service"] == "directory" {
            target["protectedGroups"] = json!(["Payroll Admins"]);
        }
    }
    config["targets"]
        .as_array_mut()
        .expect("targets")
        .push(json!({
            "name": "legacy-ad", "service": "directory", "directoryId": simple_directory,
            "usernameClaim": "custom:ad_username", "adminGroups": ["ad-helpdesk"],
            "modes": ["generate", "set"], "refuseDisabled": false
        }));
    // Two targets the function cannot check as configured: Simple AD and a directory without
    // Directory Service Data, both with the default `refuseDisabled: true`.
    for (name, id) in [
        ("simple-default", &simple_directory),
        ("dark-ad", &dark_directory),
    ] {
        config["targets"]
            .as_array_mut()
            .expect("targets")
            .push(json!({
                "name": name, "service": "directory", "directoryId": id,
                "usernameClaim": "custom:ad_username", "adminGroups": ["ad-helpdesk"],
                "modes": ["generate", "set"]
            }));
    }
    let config = resetgate::Config::parse(
        &config.to_string(),
        secrecy::SecretString::from(support::HMAC_KEY),
    )
    .expect("config");
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto_sdk);
    let table = support::dynamo::create_table(&dynamodb).await;
    let store = resetgate::idempotency::DynamoStore::new(dynamodb, table);
    let app = support::app_over(config, Box::new(store), &moto_sdk, &standin_sdk);
    World {
        _moto: moto,
        standin,
        pool,
        directory,
        simple_directory,
        dark_directory,
        environment,
        app,
    }
}

async fn world() -> World {
    world_with(standin::standin()).await
}

struct Answer {
    status: u16,
    replayed: bool,
    retry_after: Option<String>,
    body: Value,
}

async fn call(world: &World, claims: Value, path: &str, body: Value, key: &str) -> Answer {
    let mut event = support::http_api_event(path, claims, &body.to_string());
    event["headers"]["idempotency-key"] = key.into();
    let mut context = lambda_http::Context::default();
    context.request_id = "contract".into();
    let response = world.app.handle_event(&event.to_string(), &context).await;
    Answer {
        status: response.status_code,
        replayed: response.headers.contains_key("idempotent-replayed"),
        retry_after: response.headers.get("retry-after").cloned(),
        body: serde_json::from_str(&response.body).expect("json body"),
    }
}

/// What can be observed of an account on its back-end; it changes exactly when a reset lands.
/// The account must exist: an observation of nobody could never change.
async fn observe(world: &World, service: &Service, user: &str) -> String {
    let account = match service.target {
        "app-users" => {
            let status = world.pool.status(user).await;
            let seed_works = world.pool.sign_in(user, &seed_password(user)).await == SignIn::Tokens;
            return format!("{status:?} seed-password-works={seed_works}");
        }
        "corp-ad" => {
            standin::state(&world.standin)["directories"][&world.directory]["users"][user].clone()
        }
        _ => standin::state(&world.standin)["finspace"]["users"][user].clone(),
    };
    assert!(
        account.is_object(),
        "{}: no account {user} to observe",
        service.target
    );
    account.to_string()
}

/// Shows that `password`, as an answer handed it out, is the password the back-end now holds
/// for `user`: Cognito asks for a new password when it is used to sign in (a temporary
/// password); the stand-in's directory and FinSpace hold exactly it.
async fn assert_password_is_set(world: &World, service: &Service, user: &str, password: &str) {
    let t = service.target;
    match t {
        "app-users" => assert_eq!(
            world.pool.sign_in(user, password).await,
            SignIn::Challenge("NEW_PASSWORD_REQUIRED".into()),
            "{t}: the generated password signs {user} in, as a temporary one"
        ),
        "corp-ad" => assert_eq!(
            standin::state(&world.standin)["directories"][&world.directory]["users"][user]["password"],
            password,
            "{t}: the directory holds the generated password for {user}"
        ),
        _ => assert_eq!(
            standin::state(&world.standin)["finspace"]["users"][user]["lastPassword"],
            password,
            "{t}: FinSpace issued the returned password for {user}"
        ),
    }
}

/// The shared table: every service, the same scenarios, the same answers (where the service
/// offers the mode), and the back-end changed exactly when the answer says so.
#[tokio::test]
async fn the_same_contract_on_every_service() {
    let world = world().await;
    for service in [&COGNITO, &DIRECTORY, &FINSPACE] {
        let (claim, own) = service.own;
        let caller = json!({"sub": format!("sub-{own}"), claim: own});
        let admin =
            json!({"sub": "sub-admin", "cognito:groups": format!("[{}]", service.admin_group)});
        let other_admin_group = json!({"sub": "sub-m", "cognito:groups": format!("[super{} {}-readonly]", service.admin_group, service.admin_group)});
        let own_path = format!("/v1/targets/{}/password-reset", service.target);
        let user_path =
            |user: &str| format!("/v1/targets/{}/users/{user}/password-reset", service.target);
        let supports_set = service.weak_for_back_end.is_some();
        let t = service.target;

        // A non-admin naming another user: refused, that user unchanged.
        let before = observe(&world, service, service.other).await;
        let answer = call(
            &world,
            other_admin_group.clone(),
            &user_path(service.other),
            json!({"mode": "generate"}),
            &format!("{t}-1"),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{t}"
        );
        assert_eq!(
            observe(&world, service, service.other).await,
            before,
            "{t}: {} unchanged",
            service.other
        );

        // A protected user, named by an admin: refused, that user unchanged.
        let before = observe(&world, service, service.protected).await;
        let answer = call(
            &world,
            admin.clone(),
            &user_path(service.protected),
            json!({"mode": "generate"}),
            &format!("{t}-2"),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (422, Some("TARGET_NOT_ELIGIBLE")),
            "{t}"
        );
        assert_eq!(
            observe(&world, service, service.protected).await,
            before,
            "{t}: {} unchanged",
            service.protected
        );

        // Unknown account.
        let answer = call(
            &world,
            admin.clone(),
            &user_path("nobody-here"),
            json!({"mode": "generate"}),
            &format!("{t}-3"),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (404, Some("USER_NOT_FOUND")),
            "{t}: {}",
            answer.body
        );

        // Self-service generate: one password, returned once; the account changed.
        let before = observe(&world, service, own).await;
        let answer = call(
            &world,
            caller.clone(),
            &own_path,
            json!({"mode": "generate"}),
            &format!("{t}-4"),
        )
        .await;
        assert_eq!(answer.status, 200, "{t}: {}", answer.body);
        let password = answer.body["password"]
            .as_str()
            .expect("a password")
            .to_owned();
        assert_eq!(answer.body["username"], own);
        let after = observe(&world, service, own).await;
        assert_ne!(after, before, "{t}: the reset landed");
        assert_password_is_set(&world, service, own, &password).await;

        // A retry: replayed, the password not repeated, the account untouched.
        let replay = call(
            &world,
            caller.clone(),
            &own_path,
            json!({"mode": "generate"}),
            &format!("{t}-4"),
        )
        .await;
        assert!(replay.replayed, "{t}");
        assert_eq!(replay.body["passwordDelivered"], "earlier");
        assert!(replay.body.get("password").is_none());
        assert_eq!(
            observe(&world, service, own).await,
            after,
            "{t}: no second reset"
        );

        // An admin resets another account: that account changed, to the password returned.
        let before = observe(&world, service, service.other).await;
        let answer = call(
            &world,
            admin.clone(),
            &user_path(service.other),
            json!({"mode": "generate"}),
            &format!("{t}-5"),
        )
        .await;
        assert_eq!(answer.status, 200, "{t}: {}", answer.body);
        assert_ne!(
            observe(&world, service, service.other).await,
            before,
            "{t}: the reset of {} landed",
            service.other
        );
        let generated = answer.body["password"].as_str().expect("a password");
        assert_password_is_set(&world, service, service.other, generated).await;

        // Set: where the service offers it, the chosen password; the back-end's own policy may
        // still refuse one; elsewhere 422 MODE_NOT_SUPPORTED.
        let chosen = "Chosen-Orchard-Passw0rd-7!";
        let answer = call(
            &world,
            caller.clone(),
            &own_path,
            json!({"mode": "set", "password": chosen}),
            &format!("{t}-6"),
        )
        .await;
        if supports_set {
            assert_eq!(answer.status, 200, "{t}: {}", answer.body);
            assert!(answer.body.get("password").is_none());
            let weak = service.weak_for_back_end.unwrap_or_default();
            let refused = call(
                &world,
                caller.clone(),
                &own_path,
                json!({"mode": "set", "password": weak}),
                &format!("{t}-7"),
            )
            .await;
            assert_eq!(
                (refused.status, refused.body["reason"].as_str()),
                (422, Some("policy")),
                "{t}: {}",
                refused.body
            );
        } else {
            assert_eq!(
                (answer.status, answer.body["code"].as_str()),
                (422, Some("MODE_NOT_SUPPORTED")),
                "{t}"
            );
        }
        if t == "app-users" {
            assert_eq!(world.pool.sign_in(own, chosen).await, SignIn::Tokens);
            // The chosen password replaced the generated one.
            assert_eq!(
                world.pool.sign_in(own, &password).await,
                SignIn::Refused("NotAuthorizedException".into())
            );
        } else if t == "corp-ad" {
            let state = standin::state(&world.standin);
            assert_eq!(
                state["directories"][&world.directory]["users"][own]["password"],
                chosen
            );
        }
    }
}

/// One account a directory target refuses to reset, and why.
struct Refusal {
    why: &'static str,
    target: &'static str,
    /// The name in the request's path (percent-encoded).
    user: &'static str,
    status: u16,
    code: &'static str,
}

#[tokio::test]
async fn directory_accounts_the_directory_protects() {
    let world = world().await;
    let dana = json!({"sub": "sub-dana", "custom:ad_username": "dana.admin", "cognito:groups": "[ad-helpdesk]"});
    let cases = [
        Refusal {
            why: "disabled: refused, because ResetUserPassword would enable it",
            target: "corp-ad",
            user: "carol.former",
            status: 422,
            code: "TARGET_NOT_ELIGIBLE",
        },
        Refusal {
            why: "Managed AD resets only users in the delegated OU",
            target: "corp-ad",
            user: "erin.elsewhere",
            status: 422,
            code: "TARGET_NOT_ELIGIBLE",
        },
        Refusal {
            why: "Simple AD refuses Domain Admins members",
            target: "legacy-ad",
            user: "hank.admin",
            status: 422,
            code: "TARGET_NOT_ELIGIBLE",
        },
        Refusal {
            why: "a character the API forbids: refused before any call",
            target: "corp-ad",
            user: "bob%40corp",
            status: 400,
            code: "INVALID_REQUEST",
        },
    ];
    for case in cases {
        let Refusal {
            why,
            target,
            user,
            status,
            code,
        } = case;
        let directory = match target {
            "corp-ad" => &world.directory,
            _ => &world.simple_directory,
        };
        // The account the request names, before and after; where the name is no account
        // (`bob@corp`), every account of the directory.
        let observe = || {
            let users = standin::state(&world.standin)["directories"][directory]["users"].clone();
            match users.get(user) {
                Some(account) => account.clone(),
                None => users,
            }
        };
        let before = observe();
        assert!(before.is_object(), "{why}: {target} {user}: observed");
        let path = format!("/v1/targets/{target}/users/{user}/password-reset");
        let answer = call(
            &world,
            dana.clone(),
            &path,
            json!({"mode": "generate"}),
            &format!("dir-{user}"),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{why}: {target} {user}: {}",
            answer.body
        );
        assert_eq!(observe(), before, "{why}: {target} {user} untouched");
    }
    let state = standin::state(&world.standin);
    let carol = &state["directories"][&world.directory]["users"]["carol.former"];
    assert_eq!(
        (carol["enabled"].as_bool(), carol["resets"].as_u64()),
        (Some(false), Some(0)),
        "carol untouched"
    );

    // With refuseDisabled off (Simple AD has no Directory Service Data), AWS's behaviour: the
    // reset enables the account. Documented in docs/CONFIG.md.
    let path = "/v1/targets/legacy-ad/users/gina.simple/password-reset";
    let answer = call(&world, dana, path, json!({"mode": "generate"}), "dir-gina").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["mustChangeAtNextSignIn"], false);
    let state = standin::state(&world.standin);
    assert_eq!(
        state["directories"][&world.simple_directory]["users"]["gina.simple"]["enabled"],
        true
    );
}

#[tokio::test]
async fn finspace_passwords_survive_sdk_retries_and_use_environment_credentials() {
    // Faults and call counts are per server: this test has a stand-in of its own.
    let own = Arc::new(standin::private());
    let world = world_with(own.clone()).await;
    let alice = json!({"sub": "sub-alice", "custom:finspace_user_id": "uid-alice-0001"});
    let path = "/v1/targets/research/password-reset";

    // FinSpace applies the reset but answers too late: the SDK's attempt times out and it
    // retries. That is the one reset call allowed a second send (contract: Errors): both carry
    // the same clientToken, and FinSpace hands back the same password, resetting once.
    standin::fault(
        &own,
        &json!({"service": "finspace", "operation": "ResetUserPassword", "count": 1, "delayMs": 1500, "afterApply": true}),
    );
    let answer = call(
        &world,
        alice.clone(),
        path,
        json!({"mode": "generate"}),
        "fs-retry",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let state = standin::state(&own);
    let user = &state["finspace"]["users"]["uid-alice-0001"];
    assert_eq!(user["resets"], 1, "one reset despite two attempts: {user}");
    assert_eq!(
        answer.body["password"], user["lastPassword"],
        "the password that works"
    );
    let tokens: Vec<&Value> = state["log"]
        .as_array()
        .expect("request log")
        .iter()
        .filter(|entry| entry["operation"] == "ResetUserPassword" && entry["service"] == "finspace")
        .map(|entry| &entry["clientToken"])
        .collect();
    assert_eq!(tokens.len(), 2, "one retry: {tokens:?}");
    assert!(
        tokens[0].is_string() && tokens[0] == tokens[1],
        "a retry carries the same clientToken: {tokens:?}"
    );
    assert!(
        answer.body["expiresAt"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );

    // Every call was signed with the environment's credentials, fetched once and cached.
    let signers = |user: &Value| -> Vec<String> {
        user["signedBy"]
            .as_array()
            .expect("signers")
            .iter()
            .map(|key| key.as_str().expect("an access key id").to_owned())
            .collect()
    };
    let first = signers(user);
    assert_eq!(first.len(), 1, "one signer per applied reset: {first:?}");
    assert!(first[0].starts_with("ASIAENV"), "{first:?}");
    let answer = call(
        &world,
        alice.clone(),
        path,
        json!({"mode": "generate"}),
        "fs-second",
    )
    .await;
    assert_eq!(answer.status, 200);
    let state = standin::state(&own);
    assert_eq!(
        state["calls"]["finspace.GetProgrammaticAccessCredentials"],
        1
    );
    assert_eq!(
        signers(&state["finspace"]["users"]["uid-alice-0001"]),
        [first[0].clone(), first[0].clone()],
        "the second reset signed with the same, cached, environment credentials"
    );

    // A transient 500 is retried by the SDK, with the same clientToken (safe for FinSpace);
    // throttling that outlasts the retries is 503.
    standin::fault(
        &own,
        &json!({"service": "finspace", "operation": "ResetUserPassword", "count": 1, "status": 500, "error": "InternalServerException"}),
    );
    let answer = call(
        &world,
        alice.clone(),
        path,
        json!({"mode": "generate"}),
        "fs-5xx",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    standin::fault(
        &own,
        &json!({"service": "finspace", "operation": "ResetUserPassword", "count": 10, "status": 429, "error": "ThrottlingException"}),
    );
    let answer = call(
        &world,
        alice,
        path,
        json!({"mode": "generate"}),
        "fs-throttled",
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (503, Some("UPSTREAM_UNAVAILABLE"))
    );
    assert!(answer.retry_after.is_some());
}

#[tokio::test]
async fn directory_throttling_and_outages_are_503_and_free_the_key() {
    let own = Arc::new(standin::private());
    let world = world_with(own.clone()).await;
    let alice = json!({"sub": "sub-alice", "custom:ad_username": "alice.smith"});
    let path = "/v1/targets/corp-ad/password-reset";
    standin::fault(
        &own,
        &json!({"service": "directory", "operation": "ResetUserPassword", "count": 10, "status": 400, "error": "ClientException", "message": "Rate exceeded"}),
    );
    let answer = call(
        &world,
        alice.clone(),
        path,
        json!({"mode": "generate"}),
        "dir-throttled",
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (503, Some("UPSTREAM_UNAVAILABLE")),
        "{}",
        answer.body
    );
    assert!(answer.retry_after.is_some());
    standin::control(&own, "POST", "/_standin/reset", None);
    standin::seed(
        &own,
        &json!({"directories": {&world.directory: {"kind": "MicrosoftAD", "dsData": true, "users": {"alice.smith": {"enabled": true}}}}}),
    );
    standin::fault(
        &own,
        &json!({"service": "directory", "operation": "ResetUserPassword", "count": 10, "status": 400, "error": "DirectoryUnavailableException"}),
    );
    let answer = call(
        &world,
        alice.clone(),
        path,
        json!({"mode": "generate"}),
        "dir-down",
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (503, Some("UPSTREAM_UNAVAILABLE")),
        "{}",
        answer.body
    );
    // The failed attempt left the key free: the same key works once the directory is back.
    standin::control(&own, "POST", "/_standin/reset", None);
    standin::seed(
        &own,
        &json!({"directories": {&world.directory: {"kind": "MicrosoftAD", "dsData": true, "users": {"alice.smith": {"enabled": true}}}}}),
    );
    let answer = call(&world, alice, path, json!({"mode": "generate"}), "dir-down").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(!answer.replayed);
}

/// Every sample event, in order, against real back-ends: the answers the scenarios name.
#[tokio::test]
async fn every_sample_event_against_real_back_ends() {
    let world = world().await;
    // The events name the demo's ids and accounts: seed them as `make demo` does.
    standin::seed(
        &world.standin,
        &serde_json::from_str(include_str!("../config/demo-standin.json")).expect("demo seed"),
    );
    let moto_sdk = support::sdk_config(&world._moto.endpoint).await;
    let standin_sdk = standin_sdk(&world.standin).await;
    let (app, _) = {
        let dynamodb = aws_sdk_dynamodb::Client::new(&moto_sdk);
        let config = resetgate::Config::parse(
            &world.pool.config(),
            secrecy::SecretString::from(support::HMAC_KEY),
        )
        .expect("config");
        let table = support::dynamo::create_table(&dynamodb).await;
        let store = resetgate::idempotency::DynamoStore::new(dynamodb, table.clone());
        let app = support::app_over(config, Box::new(store), &moto_sdk, &standin_sdk);
        (app, table)
    };
    let manifest: Vec<Value> =
        serde_json::from_str(include_str!("../events/scenarios.json")).expect("manifest");
    let mut context = lambda_http::Context::default();
    context.request_id = "events".into();
    for scenario in manifest {
        let name = scenario["event"].as_str().expect("event");
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let response = app
            .handle_event(&std::fs::read_to_string(path).expect("event"), &context)
            .await;
        let body: Value = serde_json::from_str(&response.body).expect("json");
        assert_eq!(
            response.status_code,
            scenario["expect"].as_u64().expect("status") as u16,
            "{name}: {body}"
        );
        assert_eq!(body["code"], scenario["code"], "{name}");
        let replayed = scenario["replayed"].as_bool().unwrap_or(false);
        assert_eq!(
            response.headers.contains_key("idempotent-replayed"),
            replayed,
            "{name}"
        );
    }
    assert_eq!(
        world.pool.status("alice").await,
        aws_sdk_cognitoidentityprovider::types::UserStatusType::ForceChangePassword
    );
    assert_eq!(
        world.pool.sign_in("bob", "Green-Meadow-Passw0rd-17!").await,
        SignIn::Tokens
    );
    let _ = &world.environment;
}

fn directory_user(world: &World, directory: &str, user: &str) -> Value {
    standin::state(&world.standin)["directories"][directory]["users"][user].clone()
}

/// Who can be reset, on the stand-in's Managed Microsoft AD, Simple AD and FinSpace: an admin
/// gets 422 for every privileged account and the account is untouched; its owner's
/// self-service works.
#[tokio::test]
async fn privileged_accounts_are_not_reset_by_an_admin() {
    let world = world().await;
    let ad_admin = json!({"sub": "sub-ad-admin", "cognito:groups": "[ad-helpdesk]"});
    let fs_admin = json!({"sub": "sub-fs-admin", "cognito:groups": "[finspace-admins]"});
    let generate = json!({"mode": "generate"});
    /// An admin naming an account that is not theirs to reset, and why.
    struct Case<'a> {
        why: &'a str,
        admin: &'a Value,
        target: &'a str,
        user: &'a str,
    }
    let case = |why, admin, target, user| Case {
        why,
        admin,
        target,
        user,
    };
    let cases = [
        case(
            "AWS Managed Microsoft AD's customer administrator: built-in, always protected",
            &ad_admin,
            "corp-ad",
            "Admin",
        ),
        case(
            "the same, in another case (AD compares names case-insensitively)",
            &ad_admin,
            "corp-ad",
            "ADMIN",
        ),
        case(
            "a member of Domain Admins through a nested group",
            &ad_admin,
            "corp-ad",
            "ivan.ops",
        ),
        case(
            "a member of the target's own protectedGroups",
            &ad_admin,
            "corp-ad",
            "paula.pay",
        ),
        case(
            "a FinSpace SUPER_USER",
            &fs_admin,
            "research",
            "uid-super-0003",
        ),
        case(
            "a disabled FinSpace user (a reset would not make it usable)",
            &fs_admin,
            "research",
            "uid-gone-0004",
        ),
    ];
    for (
        n,
        Case {
            why,
            admin,
            target,
            user,
        },
    ) in cases.into_iter().enumerate()
    {
        let before = standin::state(&world.standin);
        let path = format!("/v1/targets/{target}/users/{user}/password-reset");
        let answer = call(
            &world,
            admin.clone(),
            &path,
            generate.clone(),
            &format!("priv-{n}"),
        )
        .await;
        assert_eq!(
            answer.status, 422,
            "{why}: {target}/{user}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["code"], "TARGET_NOT_ELIGIBLE",
            "{why}: {target}/{user}"
        );
        let after = standin::state(&world.standin);
        assert_eq!(
            before["directories"], after["directories"],
            "{target}/{user}"
        );
        assert_eq!(
            before["finspace"]["users"], after["finspace"]["users"],
            "{target}/{user}"
        );
    }
    let state = standin::state(&world.standin);
    assert_eq!(
        state["calls"]["directory.ResetUserPassword"]
            .as_u64()
            .unwrap_or(0),
        0
    );
    assert_eq!(
        state["calls"]["finspace.ResetUserPassword"]
            .as_u64()
            .unwrap_or(0),
        0
    );

    // An ordinary member of an ordinary group, named in another case: reset by its canonical
    // name.
    let answer = call(
        &world,
        ad_admin.clone(),
        "/v1/targets/corp-ad/users/BOB.JONES/password-reset",
        generate.clone(),
        "priv-bob",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["username"], "bob.jones");

    // The nested admin's own reset still works.
    let ivan = json!({"sub": "sub-ivan", "custom:ad_username": "ivan.ops"});
    let answer = call(
        &world,
        ivan,
        "/v1/targets/corp-ad/password-reset",
        generate.clone(),
        "priv-ivan",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let super_user = json!({"sub": "sub-super", "custom:finspace_user_id": "uid-super-0003"});
    let answer = call(
        &world,
        super_user,
        "/v1/targets/research/password-reset",
        generate,
        "priv-super",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Simple AD folds case and spaces: `"Administrator "` would reset the built-in
/// administrator. The name never reaches the directory, and the built-in is protected in any
/// case.
#[tokio::test]
async fn simple_ad_name_folding_reaches_no_administrator() {
    let world = world().await;
    let ad_admin = json!({"sub": "sub-ad-admin", "cognito:groups": "[ad-helpdesk]"});
    let before = directory_user(&world, &world.simple_directory, "Administrator");
    for (n, (name, status)) in [
        ("Administrator%20", 400),
        ("%20administrator", 400),
        ("ADMINISTRATOR", 422),
        ("guest", 422),
    ]
    .into_iter()
    .enumerate()
    {
        let path = format!("/v1/targets/legacy-ad/users/{name}/password-reset");
        let answer = call(
            &world,
            ad_admin.clone(),
            &path,
            json!({"mode": "generate"}),
            &format!("fold-{n}"),
        )
        .await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
    }
    assert_eq!(
        directory_user(&world, &world.simple_directory, "Administrator"),
        before
    );
}

/// A target that cannot be checked as configured fails closed: 500, no reset, one ERROR line
/// with the fix (its text, the error's detail, is asserted in src/reset/directory.rs).
#[tokio::test]
async fn a_target_that_cannot_be_checked_fails_closed() {
    // Faults are queued on the stand-in, not per directory: this test injects one, so it
    // has a stand-in of its own (a shared one would hand the fault to another test's call).
    let own = Arc::new(standin::private());
    let world = world_with(own.clone()).await;
    let ad_admin = json!({"sub": "sub-ad-admin", "cognito:groups": "[ad-helpdesk]"});
    for (n, (target, directory, user)) in [
        ("simple-default", &world.simple_directory, "hank.admin"),
        ("dark-ad", &world.dark_directory, "alice.smith"),
    ]
    .into_iter()
    .enumerate()
    {
        let before = directory_user(&world, directory, user);
        let path = format!("/v1/targets/{target}/users/{user}/password-reset");
        let answer = call(
            &world,
            ad_admin.clone(),
            &path,
            json!({"mode": "generate"}),
            &format!("dark-{n}"),
        )
        .await;
        assert_eq!(answer.status, 500, "{target}: {}", answer.body);
        assert_eq!(answer.body["code"], "INTERNAL");
        assert_eq!(directory_user(&world, directory, user), before, "{target}");
    }
    // IAM denies the function's role on any call: the same.
    standin::fault(
        &world.standin,
        &json!({"operation": "*", "error": "AccessDeniedException", "count": 1}),
    );
    let answer = call(
        &world,
        ad_admin,
        "/v1/targets/corp-ad/users/alice.smith/password-reset",
        json!({"mode": "generate"}),
        "dark-iam",
    )
    .await;
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(answer.body["code"], "INTERNAL");
}

//! The function through its entry point (`App::handle_event`), with the test kit's in-process
//! back-end: every sample event, the field and mode rules, recent sign-in, replays, the
//! privileged and alias rules, and fuzzing of whatever API Gateway may deliver.

/// Scenarios through the whole handler.
mod pipeline {
    use serde::Deserialize;

    use crate::{
        ManualClock,
        testkit::{
            CountingAdapter, DEMO_ISSUER, MemoryStore, account, app, app_with, context,
            demo_config,
            events::{code_of, http_api, post},
        },
    };

    #[derive(Deserialize)]
    struct Scenario {
        event: String,
        expect: u16,
        code: Option<String>,
        /// Decided by the back-end's own state: covered by the integration tests.
        #[serde(default, rename = "decidedByBackEnd")]
        decided_by_back_end: bool,
    }

    /// Every sample event, through the whole handler: the status and code its scenario names,
    /// and a back-end call exactly when the request succeeds with a reset.
    #[tokio::test]
    async fn every_sample_event_answers_as_its_scenario_says() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
        let scenarios: Vec<Scenario> = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/scenarios.json")).expect("manifest"),
        )
        .expect("json");
        assert!(scenarios.len() >= 18);
        for scenario in scenarios.into_iter().filter(|s| !s.decided_by_back_end) {
            let adapter = CountingAdapter::default();
            let event =
                std::fs::read_to_string(format!("{dir}/{}", scenario.event)).expect("event");
            let response = app(&adapter, &demo_config())
                .handle_event(&event, &context())
                .await;
            assert_eq!(
                response.status_code, scenario.expect,
                "{}: {}",
                scenario.event, response.body
            );
            let body: serde_json::Value = serde_json::from_str(&response.body).expect("json body");
            assert_eq!(
                body["code"].as_str(),
                scenario.code.as_deref(),
                "{}",
                scenario.event
            );
            assert_eq!(response.headers["cache-control"], "no-store");
            let reset = response.status_code < 300 && body.get("mode").is_some();
            assert_eq!(adapter.resets(), usize::from(reset), "{}", scenario.event);
            if response.status_code >= 400 {
                assert_eq!(response.headers["content-type"], "application/problem+json");
                assert_eq!(body["requestId"], "lambda-request-1");
            }
        }
    }

    #[tokio::test]
    async fn events_of_unknown_shape_are_401_not_502() {
        let adapter = CountingAdapter::default();
        for event in [
            "{}",
            r#"{"key1":"value1","key2":"value2"}"#,
            "[]",
            "null",
            "42",
            r#"{"requestContext": 5}"#,
        ] {
            let response = app(&adapter, &demo_config())
                .handle_event(event, &context())
                .await;
            assert_eq!(response.status_code, 401, "{event}");
        }
        assert_eq!(adapter.resets(), 0);
    }

    /// An HTTP API event for `path`, as a string.
    fn http_api_event(
        path: &str,
        claims: serde_json::Value,
        headers: serde_json::Value,
        body: &str,
    ) -> String {
        http_api(path, claims, headers, body).to_string()
    }

    #[tokio::test]
    async fn field_and_mode_rules() {
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "k-1"});
        let own = "/v1/targets/app-users/password-reset";
        let cases: Vec<(&str, &str, u16, Option<&str>)> = vec![
            (own, r#"{"mode":"set"}"#, 400, Some("INVALID_REQUEST")),
            (
                own,
                r#"{"mode":"generate","password":"Some-Passw0rd!"}"#,
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                own,
                r#"{"mode":"generate","clientMetadata":{"a":"b"}}"#,
                400,
                Some("INVALID_REQUEST"),
            ),
            (
                own,
                r#"{"mode":"code","clientMetadata":{"a":"b"}}"#,
                202,
                None,
            ),
            (
                own,
                r#"{"mode":"set","password":"short"}"#,
                422,
                Some("PASSWORD_REJECTED"),
            ),
            (
                own,
                r#"{"mode":"set","password":"my-alice-pass"}"#,
                422,
                Some("PASSWORD_REJECTED"),
            ),
            (
                own,
                r#"{"mode":"set","password":"Long-Enough-Pa55"}"#,
                200,
                None,
            ),
            (
                own,
                r#"{"mode":"generate","clientToken":"k-2"}"#,
                400,
                Some("IDEMPOTENCY_KEY_INVALID"),
            ),
            (own, r#"{"mode":"generate","clientToken":"k-1"}"#, 200, None),
            (
                "/v1/targets/kiosk-users/password-reset",
                r#"{"mode":"set","password":"Long-Enough-Pa55"}"#,
                422,
                Some("MODE_NOT_SUPPORTED"),
            ),
            (
                "/v1/targets",
                r#"{"mode":"generate"}"#,
                405,
                Some("METHOD_NOT_ALLOWED"),
            ),
            (
                "/v2/anything",
                r#"{"mode":"generate"}"#,
                404,
                Some("NOT_FOUND"),
            ),
        ];
        for (path, body, status, code) in cases {
            let adapter = CountingAdapter::default();
            let event = http_api_event(path, alice.clone(), headers.clone(), body);
            let response = app(&adapter, &demo_config())
                .handle_event(&event, &context())
                .await;
            assert_eq!(
                response.status_code, status,
                "{path} {body}: {}",
                response.body
            );
            let parsed: serde_json::Value = serde_json::from_str(&response.body).expect("json");
            assert_eq!(parsed["code"].as_str(), code, "{path} {body}");
            assert_eq!(adapter.resets(), usize::from(status < 300), "{path} {body}");
        }
    }

    #[tokio::test]
    async fn self_service_generate_and_set_need_a_recent_sign_in_where_configured() {
        let mut config: serde_json::Value = serde_json::from_str(&demo_config()).expect("json");
        config["targets"][0]["protectedUsers"] = serde_json::json!([]);
        config["targets"][0]["maxAuthAgeSeconds"] = 900.into();
        let config = config.to_string();
        // The use case's clock, not the wall's: the check reads the same clock as everything else.
        let now: u64 = 1_750_000_000;
        let clock = std::sync::Arc::new(ManualClock::at_millis(now * 1000));
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "k-1"});
        let set = r#"{"mode":"set","password":"Long-Enough-Pa55"}"#;
        let own = "/v1/targets/app-users/password-reset";
        let cases = vec![
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": now.to_string()}),
                set,
                200,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": (now - 3600).to_string()}),
                set,
                401,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice"}),
                set,
                401,
            ),
            // `generate` hands the token holder a working password too.
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": "0"}),
                r#"{"mode":"generate"}"#,
                401,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice"}),
                r#"{"mode":"generate"}"#,
                401,
            ),
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": now.to_string()}),
                r#"{"mode":"generate"}"#,
                200,
            ),
            // `code` goes to the user's verified channel; admin resets are not affected.
            (
                own,
                serde_json::json!({"sub": "s", "iss": DEMO_ISSUER, "cognito:username": "alice", "auth_time": "0"}),
                r#"{"mode":"code"}"#,
                202,
            ),
            (
                "/v1/targets/app-users/users/bob/password-reset",
                serde_json::json!({"sub": "h", "cognito:groups": "[helpdesk]", "auth_time": "0"}),
                set,
                200,
            ),
        ];
        for (path, claims, body, status) in cases {
            let adapter = CountingAdapter::default();
            let response = app_with(
                &adapter,
                &config,
                MemoryStore::returning_old(),
                clock.clone(),
            )
            .handle_event(
                &http_api_event(path, claims.clone(), headers.clone(), body),
                &context(),
            )
            .await;
            assert_eq!(
                response.status_code, status,
                "{claims} {body}: {}",
                response.body
            );
            if status == 401 {
                assert!(response.body.contains("REAUTHENTICATION_REQUIRED"));
            }
        }
    }

    #[tokio::test]
    async fn a_retry_is_replayed_once_executed_and_secrets_are_not_repeated() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter, &demo_config());
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let bob =
            serde_json::json!({"sub": "s-bob", "iss": DEMO_ISSUER, "cognito:username": "bob"});
        let headers =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "retry-1"});
        let own = "/v1/targets/app-users/password-reset";
        let generate = http_api_event(
            own,
            alice.clone(),
            headers.clone(),
            r#"{"mode":"generate"}"#,
        );

        let first = app.handle_event(&generate, &context()).await;
        assert_eq!(first.status_code, 200);
        assert!(first.body.contains("Generated-Pa55word!"));
        assert!(!first.headers.contains_key("idempotent-replayed"));

        let again = app.handle_event(&generate, &context()).await;
        assert_eq!(again.status_code, 200);
        assert_eq!(
            again.headers.get("idempotent-replayed").map(String::as_str),
            Some("true")
        );
        let body: serde_json::Value = serde_json::from_str(&again.body).expect("json");
        assert_eq!(body["passwordDelivered"], "earlier");
        assert!(body.get("password").is_none());
        assert_eq!(body["username"], "alice");
        assert_eq!(adapter.resets(), 1, "the replay made no call");

        // Same key, other request: refused, and the record still replays.
        let other = http_api_event(own, alice.clone(), headers.clone(), r#"{"mode":"code"}"#);
        let reused = app.handle_event(&other, &context()).await;
        assert_eq!(reused.status_code, 422);
        assert!(reused.body.contains("IDEMPOTENCY_KEY_REUSED"));
        assert_eq!(
            app.handle_event(&generate, &context()).await.status_code,
            200
        );

        // Same key, other caller: a request of its own.
        let bobs = http_api_event(own, bob, headers.clone(), r#"{"mode":"generate"}"#);
        let response = app.handle_event(&bobs, &context()).await;
        assert!(!response.headers.contains_key("idempotent-replayed"));
        assert_eq!(adapter.resets(), 2);

        // Requests refused before the back-end write no record: the key stays free.
        let fresh =
            serde_json::json!({"content-type": "application/json", "idempotency-key": "retry-2"});
        let short = http_api_event(
            own,
            alice.clone(),
            fresh.clone(),
            r#"{"mode":"set","password":"short"}"#,
        );
        assert_eq!(app.handle_event(&short, &context()).await.status_code, 422);
        let good = http_api_event(
            own,
            alice,
            fresh,
            r#"{"mode":"set","password":"Long-Enough-Pa55"}"#,
        );
        assert_eq!(app.handle_event(&good, &context()).await.status_code, 200);
    }

    /// The helpdesk climb: a helpdesk seat resetting another helpdesk member (or any admin
    /// group's member) would sign in as them. Refused with no reset; the member's own
    /// self-service reset still works.
    #[tokio::test]
    async fn an_admin_cannot_reset_a_privileged_account() {
        let adapter = CountingAdapter::with_accounts(&[
            ("hank", account("hank", &["staff", "helpdesk"])),
            ("ada", account("ada", &["ad-helpdesk"])),
            ("bob", account("bob", &["staff"])),
        ]);
        let app = app(&adapter, &demo_config());
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        let generate = r#"{"mode":"generate"}"#;
        for (user, key) in [("hank", "k-hank"), ("ada", "k-ada")] {
            let path = format!("/v1/targets/app-users/users/{user}/password-reset");
            let response = app
                .handle_event(&post(&path, helen.clone(), key, generate), &context())
                .await;
            assert_eq!(response.status_code, 422, "{user}: {}", response.body);
            assert_eq!(
                code_of(&response.body).as_deref(),
                Some("TARGET_NOT_ELIGIBLE")
            );
            // The refused claim was released: the key is free for another request.
            let bob = post(
                "/v1/targets/app-users/users/bob/password-reset",
                helen.clone(),
                key,
                generate,
            );
            assert_eq!(app.handle_event(&bob, &context()).await.status_code, 200);
        }
        assert_eq!(adapter.reset_names(), vec!["bob", "bob"]);

        let hank = serde_json::json!({"sub": "s-hank", "iss": DEMO_ISSUER, "cognito:username": "hank", "cognito:groups": "[helpdesk]"});
        let own = post(
            "/v1/targets/app-users/password-reset",
            hank,
            "k-own",
            generate,
        );
        assert_eq!(app.handle_event(&own, &context()).await.status_code, 200);
        assert_eq!(adapter.reset_names(), vec!["bob", "bob", "hank"]);
    }

    /// One identity, whatever the spelling: aliases of alice share her per-account limit, and
    /// the reset and the answer use her canonical name. The limit's window is the clock hour
    /// of the use case's clock, which stands mid-hour here (and moves to the next hour at the
    /// end), so the test does not depend on when it runs.
    #[tokio::test]
    async fn aliases_resolve_to_one_account_for_limits_and_the_reset() {
        let aliases = [
            "alice@example.com",
            "+15550100",
            "7d5f2c1e-alice-sub",
            "Alice",
            "ALICE@EXAMPLE.COM",
        ];
        let adapter =
            CountingAdapter::with_accounts(&aliases.map(|alias| (alias, account("alice", &[]))));
        // 2025-06-15T14:30:00Z.
        let hour_start_ms = 1_749_996_000_000;
        let clock = std::sync::Arc::new(ManualClock::at_millis(hour_start_ms + 1_800_000));
        let app = app_with(
            &adapter,
            &demo_config(),
            MemoryStore::returning_old(),
            clock.clone(),
        );
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        for (n, alias) in aliases.iter().enumerate() {
            let path = format!("/v1/targets/app-users/users/{alias}/password-reset");
            let response = app
                .handle_event(
                    &post(
                        &path,
                        helen.clone(),
                        &format!("k-{n}"),
                        r#"{"mode":"code"}"#,
                    ),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, 202, "{alias}: {}", response.body);
            let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
            assert_eq!(body["username"], "alice");
        }
        // A sixth reset of alice, by her own name: her per-account limit (5 an hour) is spent.
        let sixth = post(
            "/v1/targets/app-users/users/alice/password-reset",
            helen.clone(),
            "k-6",
            r#"{"mode":"code"}"#,
        );
        let response = app.handle_event(&sixth, &context()).await;
        assert_eq!(response.status_code, 429, "{}", response.body);
        assert_eq!(
            response.headers.get("retry-after").map(String::as_str),
            Some("1800"),
            "until the end of the clock hour"
        );
        assert_eq!(adapter.reset_names(), vec!["alice"; 5]);
        // The next clock hour: her budget is whole again, whichever name is used.
        clock.set_millis(hour_start_ms + 3_600_000);
        let seventh = post(
            "/v1/targets/app-users/users/ALICE@EXAMPLE.COM/password-reset",
            helen.clone(),
            "k-7",
            r#"{"mode":"code"}"#,
        );
        let response = app.handle_event(&seventh, &context()).await;
        assert_eq!(response.status_code, 202, "{}", response.body);
        assert_eq!(adapter.reset_names(), vec!["alice"; 6]);
    }

    /// Two pools behind one authorizer: pool B's `bob` is not pool A's `bob`.
    #[tokio::test]
    async fn self_service_trusts_the_username_only_from_the_targets_issuers() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter, &demo_config());
        let generate = r#"{"mode":"generate"}"#;
        let own = "/v1/targets/app-users/password-reset";
        let other_pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool";
        for (claims, status) in [
            (
                serde_json::json!({"sub": "s-bob-b", "iss": other_pool, "cognito:username": "bob"}),
                403,
            ),
            (
                serde_json::json!({"sub": "s-bob-x", "cognito:username": "bob"}),
                403,
            ),
            (
                serde_json::json!({"sub": "s-bob-a", "iss": DEMO_ISSUER, "cognito:username": "bob"}),
                200,
            ),
        ] {
            let response = app
                .handle_event(&post(own, claims.clone(), "k-1", generate), &context())
                .await;
            assert_eq!(response.status_code, status, "{claims}: {}", response.body);
        }
        assert_eq!(adapter.resets(), 1);
    }

    /// A replay is answered whatever the reads find now; a claim is released when they refuse.
    #[tokio::test]
    async fn a_replay_wins_over_the_reads() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter, &demo_config());
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        let event = post(
            "/v1/targets/app-users/users/bob/password-reset",
            helen,
            "k-1",
            r#"{"mode":"code"}"#,
        );
        assert_eq!(app.handle_event(&event, &context()).await.status_code, 202);
        // bob joins the helpdesk afterwards: the retry is still the earlier answer.
        adapter.set_account("bob", account("bob", &["helpdesk"]));
        let again = app.handle_event(&event, &context()).await;
        assert_eq!(again.status_code, 202);
        assert_eq!(
            again.headers.get("idempotent-replayed").map(String::as_str),
            Some("true")
        );
        assert_eq!(adapter.resets(), 1);
    }

    /// Simple AD folds spaces away: such names never reach a directory.
    #[tokio::test]
    async fn spaced_directory_names_are_refused_before_any_call() {
        let adapter = CountingAdapter::default();
        let app = app(&adapter, &demo_config());
        let ad_admin = serde_json::json!({"sub": "s-ad", "cognito:groups": "[ad-helpdesk]"});
        for name in [
            "Administrator%20",
            "%20Administrator",
            "Admin%20%20istrator",
            "Administrator%C2%A0",
            "Administrator%09",
        ] {
            let path = format!("/v1/targets/corp-ad/users/{name}/password-reset");
            let response = app
                .handle_event(
                    &post(&path, ad_admin.clone(), "k-1", r#"{"mode":"generate"}"#),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, 400, "{name}: {}", response.body);
            assert_eq!(code_of(&response.body).as_deref(), Some("INVALID_REQUEST"));
        }
        for name in ["ADMINISTRATOR", "admin", "Guest", "KRBTGT"] {
            let path = format!("/v1/targets/corp-ad/users/{name}/password-reset");
            let response = app
                .handle_event(
                    &post(&path, ad_admin.clone(), "k-1", r#"{"mode":"generate"}"#),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, 422, "{name}: {}", response.body);
        }
        assert_eq!(adapter.resets(), 0);
    }

    /// Sessions end after every password change where the back-end can end them: `generate`
    /// and `set` say `"sessionsRevoked": true`; `code` changes no password and signs nobody
    /// out; a failed sign-out is `false` in a successful answer (the password did change); a
    /// replay does not repeat it.
    #[tokio::test]
    async fn sessions_end_when_the_password_changes() {
        let adapter = CountingAdapter::with_sessions();
        let cognito = app(&adapter, &demo_config());
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let own = "/v1/targets/app-users/password-reset";
        let send = |key: &str, body: &str| post(own, alice.clone(), key, body);
        let body_of = |response: &crate::ProxyResponse| -> serde_json::Value {
            serde_json::from_str(&response.body).expect("json")
        };

        let generate = send("k-generate", r#"{"mode":"generate"}"#);
        let first = cognito.handle_event(&generate, &context()).await;
        assert_eq!(first.status_code, 200, "{}", first.body);
        assert_eq!(body_of(&first)["sessionsRevoked"], true);
        assert_eq!(adapter.sign_outs(), ["alice"]);

        let replay = cognito.handle_event(&generate, &context()).await;
        assert_eq!(
            replay
                .headers
                .get("idempotent-replayed")
                .map(String::as_str),
            Some("true")
        );
        assert!(
            body_of(&replay).get("sessionsRevoked").is_none(),
            "{}",
            replay.body
        );
        assert_eq!(
            adapter.sign_outs().len(),
            1,
            "a replay signs nobody out again"
        );

        let code = cognito
            .handle_event(&send("k-code", r#"{"mode":"code"}"#), &context())
            .await;
        assert_eq!(code.status_code, 202, "{}", code.body);
        assert!(
            body_of(&code).get("sessionsRevoked").is_none(),
            "{}",
            code.body
        );
        assert_eq!(adapter.sign_outs().len(), 1, "a code changes no password");

        adapter.fail_sign_outs(true);
        let set = cognito
            .handle_event(
                &send(
                    "k-set",
                    r#"{"mode":"set","password":"Quiet-Harbour-Lantern-42"}"#,
                ),
                &context(),
            )
            .await;
        assert_eq!(set.status_code, 200, "{}", set.body);
        assert_eq!(body_of(&set)["sessionsRevoked"], false);
        assert_eq!(adapter.resets(), 3);

        // A back-end without sessions (a directory target) says nothing about them.
        let directory = CountingAdapter::default();
        let ad = serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "custom:ad_username": "alice.smith"});
        let response = app(&directory, &demo_config())
            .handle_event(
                &post(
                    "/v1/targets/corp-ad/password-reset",
                    ad,
                    "k-ad",
                    r#"{"mode":"generate"}"#,
                ),
                &context(),
            )
            .await;
        assert_eq!(response.status_code, 200, "{}", response.body);
        assert!(body_of(&response).get("sessionsRevoked").is_none());
    }

    /// One OCSF Account Change event per decision on a target: a success, a replay, a
    /// refusal, an unauthenticated request naming a target; none for the target list. No
    /// secret in any of them; a bus that fails changes no answer.
    #[tokio::test]
    async fn every_decision_on_a_target_is_an_event_without_secrets() {
        const CANARY: &str = "Canary-Harbour-Lantern-42";
        let adapter = CountingAdapter::default();
        let bus = crate::testkit::RecordingBus::default();
        let function = crate::testkit::app_with_events(&adapter, &demo_config(), &bus);
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let own = "/v1/targets/app-users/password-reset";
        let set = format!(r#"{{"mode":"set","password":"{CANARY}"}}"#);
        let event = post(own, alice.clone(), "k-set", &set);
        let first = function.handle_event(&event, &context()).await;
        assert_eq!(first.status_code, 200, "{}", first.body);
        let replay = function.handle_event(&event, &context()).await;
        assert_eq!(replay.status_code, 200);
        let refused = function
            .handle_event(
                &post(
                    "/v1/targets/app-users/users/bob/password-reset",
                    alice.clone(),
                    "k-bob",
                    r#"{"mode":"generate"}"#,
                ),
                &context(),
            )
            .await;
        assert_eq!(refused.status_code, 403);
        let nobody = function
            .handle_event(
                &post(own, serde_json::json!({}), "k-x", r#"{"mode":"code"}"#),
                &context(),
            )
            .await;
        assert_eq!(nobody.status_code, 401);
        let mut list: serde_json::Value =
            serde_json::from_str(include_str!("../../events/targets-list.json")).expect("event");
        list["requestContext"]["authorizer"]["jwt"]["claims"] = alice.clone();
        assert_eq!(
            function
                .handle_event(&list.to_string(), &context())
                .await
                .status_code,
            200
        );

        let events = bus.events();
        let codes: Vec<_> = events
            .iter()
            .map(|e| e["unmapped"]["code"].clone())
            .collect();
        assert_eq!(
            codes,
            ["OK", "OK", "FORBIDDEN", "UNAUTHENTICATED"],
            "{events:#?}"
        );
        let replayed: Vec<_> = events
            .iter()
            .map(|e| e["unmapped"]["replayed"].clone())
            .collect();
        assert_eq!(replayed, [false, true, false, false]);
        let statuses: Vec<_> = events.iter().map(|e| e["status_id"].clone()).collect();
        assert_eq!(statuses, [1, 1, 2, 2]);
        for event in &events {
            assert_eq!(event["class_uid"], 3001);
            assert_eq!(event["type_uid"], 300104);
            assert_eq!(event["metadata"]["uid"], "lambda-request-1");
            assert_eq!(event["user"]["domain"], "app-users");
            assert!(!event.to_string().contains(CANARY), "{event}");
            assert!(
                !event.to_string().contains("k-set"),
                "a raw idempotency key: {event}"
            );
        }
        assert_eq!(events[0]["user"]["name"], "alice");
        assert_eq!(events[2]["user"]["name"], "bob");
        assert_eq!(events[3]["user"]["name"], "unknown");

        // A bus that is down: logged and counted, the answer unchanged.
        bus.fail(true);
        let again = function
            .handle_event(
                &post(own, alice, "k-code", r#"{"mode":"code"}"#),
                &context(),
            )
            .await;
        assert_eq!(again.status_code, 202, "{}", again.body);
        assert_eq!(bus.events().len(), 4);
    }

    /// The user is told of a reset that changed their password (`generate`, `set`), at the
    /// address the back-end holds, by an admin or not; never of a `code` (the back-end mails
    /// the code), never twice for a replay, and never with the password.
    #[tokio::test]
    async fn the_user_is_told_of_a_password_change_without_the_password() {
        const CANARY: &str = "Canary-Lantern-Quarry-58";
        let mut with_email = account("alice", &[]);
        with_email.email = Some("alice@example.com".into());
        let adapter = CountingAdapter::with_accounts(&[("alice", with_email)]);
        let mailer = crate::testkit::RecordingMailer::default();
        let function = crate::testkit::app_with_mailer(&adapter, &demo_config(), &mailer);
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let own = "/v1/targets/app-users/password-reset";
        let set = post(
            own,
            alice.clone(),
            "k-set",
            &format!(r#"{{"mode":"set","password":"{CANARY}"}}"#),
        );
        assert_eq!(
            function.handle_event(&set, &context()).await.status_code,
            200
        );
        assert_eq!(
            function.handle_event(&set, &context()).await.status_code,
            200
        );
        let code = post(own, alice.clone(), "k-code", r#"{"mode":"code"}"#);
        assert_eq!(
            function.handle_event(&code, &context()).await.status_code,
            202
        );
        let helen = serde_json::json!({"sub": "s-helen", "iss": DEMO_ISSUER, "cognito:groups": "[helpdesk]"});
        let admin = post(
            "/v1/targets/app-users/users/alice/password-reset",
            helen,
            "k-admin",
            r#"{"mode":"generate"}"#,
        );
        let generated = function.handle_event(&admin, &context()).await;
        assert_eq!(generated.status_code, 200);
        // bob's account holds no address: nobody to tell.
        let bob =
            serde_json::json!({"sub": "s-bob", "iss": DEMO_ISSUER, "cognito:username": "bob"});
        let bobs = post(own, bob, "k-bob", r#"{"mode":"generate"}"#);
        assert_eq!(
            function.handle_event(&bobs, &context()).await.status_code,
            200
        );

        let sent = mailer.sent();
        assert_eq!(sent.len(), 2, "{sent:#?}");
        assert!(sent.iter().all(|(to, _, _)| to == "alice@example.com"));
        assert!(sent[0].2.contains("signed in as you"), "{}", sent[0].2);
        assert!(
            sent[1].2.contains("helpdesk administrator"),
            "{}",
            sent[1].2
        );
        assert!(sent[1].2.contains("198.51.100.23") || sent[1].2.contains("unknown address"));
        let delivered = body_password(&generated.body);
        for (_, subject, body) in &sent {
            assert!(!body.contains(CANARY) && !subject.contains(CANARY));
            assert!(!body.contains(&delivered), "the generated password: {body}");
            assert!(body.contains("the IT helpdesk, +1 555 0100"));
        }
    }

    /// The confirm endpoint: the user completes a `code` reset with the code and a new
    /// password. Self-service only, the code a secret and part of the request, the password
    /// screened before the back-end sees it, exempt from `maxAuthAgeSeconds`, sessions ended
    /// after, and only on a target with a recovery client.
    #[tokio::test]
    async fn a_code_reset_is_completed_by_its_user_with_the_code() {
        const CODE: &str = "Canary-Code-731904";
        let mut with_email = account("alice", &[]);
        with_email.email = Some("alice@example.com".into());
        let adapter = CountingAdapter::with_accounts(&[("alice", with_email)]).signing_out();
        adapter.expect_code(CODE);
        let mut document: serde_json::Value = serde_json::from_str(&demo_config()).expect("json");
        document["targets"][0]["maxAuthAgeSeconds"] = 300.into();
        let mailer = crate::testkit::RecordingMailer::default();
        let bus = crate::testkit::RecordingBus::default();
        let function = crate::testkit::app_with_events_and_mailer(
            &adapter,
            &document.to_string(),
            &bus,
            &mailer,
        );
        // Signed in long ago: a confirm rests on the code, not on a fresh sign-in.
        let alice = serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice", "custom:ad_username": "alice.smith", "auth_time": "1"});
        let confirm = "/v1/targets/app-users/password-reset/confirm";
        let function = &function;
        let send = |path: &str, key: &str, body: &str| {
            let event = post(path, alice.clone(), key, body);
            async move { function.handle_event(&event, &context()).await }
        };
        let body =
            |code: &str, password: &str| format!(r#"{{"code":"{code}","password":"{password}"}}"#);
        let good = body(CODE, "Quiet-Harbour-Lantern-42");

        // Refused before any call.
        for (path, request, status, code) in [
            (
                confirm,
                body("12 34", "Quiet-Harbour-Lantern-42"),
                400,
                "INVALID_REQUEST",
            ),
            (
                confirm,
                body("", "Quiet-Harbour-Lantern-42"),
                400,
                "INVALID_REQUEST",
            ),
            (confirm, body(CODE, "Summer2024!"), 422, "PASSWORD_REJECTED"),
            (
                confirm,
                body(CODE, "alice-Harbour-Lantern-42"),
                422,
                "PASSWORD_REJECTED",
            ),
            (
                confirm,
                format!(r#"{{"code":"{CODE}"}}"#),
                400,
                "INVALID_REQUEST",
            ),
            (
                confirm,
                format!(
                    r#"{{"mode":"set","code":"{CODE}","password":"Quiet-Harbour-Lantern-42"}}"#
                ),
                400,
                "INVALID_REQUEST",
            ),
            // The reset endpoint takes no code, and no confirm mode.
            (
                "/v1/targets/app-users/password-reset",
                format!(
                    r#"{{"mode":"set","code":"{CODE}","password":"Quiet-Harbour-Lantern-42"}}"#
                ),
                400,
                "INVALID_REQUEST",
            ),
            (
                "/v1/targets/app-users/password-reset",
                r#"{"mode":"confirm","password":"Quiet-Harbour-Lantern-42"}"#.to_owned(),
                400,
                "INVALID_REQUEST",
            ),
            // Only a target with a recovery client offers a confirm.
            (
                "/v1/targets/kiosk-users/password-reset/confirm",
                good.clone(),
                422,
                "MODE_NOT_SUPPORTED",
            ),
            (
                "/v1/targets/corp-ad/password-reset/confirm",
                good.clone(),
                422,
                "MODE_NOT_SUPPORTED",
            ),
        ] {
            let response = send(path, "k-refused", &request).await;
            assert_eq!(
                (response.status_code, code_of(&response.body).as_deref()),
                (status, Some(code)),
                "{path} {}",
                response.body
            );
        }
        assert_eq!(adapter.resets(), 0);

        // A wrong code reaches the back-end (and counts), and is 400 INVALID_CODE.
        let wrong = send(
            confirm,
            "k-wrong",
            &body("000000", "Quiet-Harbour-Lantern-42"),
        )
        .await;
        assert_eq!(wrong.status_code, 400, "{}", wrong.body);
        assert_eq!(code_of(&wrong.body).as_deref(), Some("INVALID_CODE"));
        assert_eq!(adapter.resets(), 1);
        assert!(adapter.sign_outs().is_empty());

        let done = send(confirm, "k-confirm", &good).await;
        assert_eq!(done.status_code, 200, "{}", done.body);
        let answer: serde_json::Value = serde_json::from_str(&done.body).expect("json");
        assert_eq!(
            answer,
            serde_json::json!({"target": "app-users", "username": "alice", "mode": "confirm",
                "mustChangeAtNextSignIn": false, "sessionsRevoked": true})
        );
        assert_eq!(adapter.sign_outs(), ["alice"]);
        assert_eq!(adapter.resets(), 2);

        // The same key: a replay, no second call; with another code: another request.
        let replay = send(confirm, "k-confirm", &good).await;
        assert_eq!(replay.status_code, 200);
        assert_eq!(
            replay
                .headers
                .get("idempotent-replayed")
                .map(String::as_str),
            Some("true")
        );
        let reused = send(
            confirm,
            "k-confirm",
            &body("731905", "Quiet-Harbour-Lantern-42"),
        )
        .await;
        assert_eq!(
            code_of(&reused.body).as_deref(),
            Some("IDEMPOTENCY_KEY_REUSED")
        );
        assert_eq!(adapter.resets(), 2);

        // The user is told, and the SIEM gets a Password Change; neither holds the code.
        let sent = mailer.sent();
        assert_eq!(sent.len(), 1, "{sent:#?}");
        assert!(sent[0].2.contains("with a reset code"), "{}", sent[0].2);
        let events = bus.events();
        let changes: Vec<_> = events
            .iter()
            .filter(|event| event["activity_id"] == 3)
            .collect();
        assert!(
            changes.iter().any(|event| event["status_id"] == 1),
            "{events:#?}"
        );
        assert!(
            changes
                .iter()
                .any(|event| event["unmapped"]["code"] == "INVALID_CODE"),
            "{events:#?}"
        );
        let everything = format!("{events:?}{sent:?}");
        assert!(!everything.contains(CODE) && !everything.contains("Quiet-Harbour"));
    }

    /// After an unanswered confirm, the retry (same key, same request) sends it again and its
    /// code decides: a mismatch is `INVALID_CODE` for sure (a wrong code changed nothing); a
    /// spent code is the first call's success only where the account shows the change since,
    /// else the outcome stays unknown. Never a success guessed from the read alone (someone
    /// else may have changed the user), never an `INVALID_CODE` that hides a change.
    #[tokio::test]
    async fn a_retried_confirm_is_decided_by_its_code_not_by_a_guess() {
        use std::sync::{
            Arc, Mutex,
            atomic::{AtomicUsize, Ordering},
        };

        use crate::{
            BoxFuture, Error,
            reset::{
                Account, LastChange, Lookup, PasswordState, ResetAdapter, ResetOutcome,
                ResetRequest,
            },
        };

        /// A pool whose confirms answer as scripted, the first one going unanswered.
        #[derive(Clone)]
        struct Scripted {
            calls: Arc<AtomicUsize>,
            sign_outs: Arc<AtomicUsize>,
            second: fn() -> Result<(), Error>,
            changed_at: Arc<Mutex<Option<u64>>>,
        }
        impl ResetAdapter for Scripted {
            fn inspect<'a>(
                &'a self,
                lookup: &'a Lookup<'a>,
            ) -> BoxFuture<'a, Result<Account, Error>> {
                let account = Account {
                    canonical: Some(lookup.username.to_owned()),
                    last_change: self
                        .changed_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .map(|at_ms| LastChange {
                            at_ms,
                            state: PasswordState::Permanent,
                        }),
                    ..Account::default()
                };
                Box::pin(async move { Ok(account) })
            }
            fn revoke_sessions<'a>(
                &'a self,
                _: &'a str,
            ) -> Option<BoxFuture<'a, Result<(), Error>>> {
                self.sign_outs.fetch_add(1, Ordering::SeqCst);
                Some(Box::pin(async { Ok(()) }))
            }
            fn reset<'a>(
                &'a self,
                _: &'a ResetRequest<'a>,
            ) -> BoxFuture<'a, Result<ResetOutcome, Error>> {
                let answer = match self.calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(Error::OutcomeUnknown {
                        retry_after_secs: 2,
                    }),
                    _ => (self.second)(),
                };
                Box::pin(async move {
                    answer.map(|()| ResetOutcome {
                        must_change_at_next_sign_in: false,
                        password: None,
                        expires_at: None,
                        delivery: None,
                    })
                })
            }
        }

        let now = || crate::clock::Clock::now_millis(&crate::clock::SystemClock);
        let wrong: fn() -> Result<(), Error> = || Err(Error::InvalidCode { expired: false });
        let spent: fn() -> Result<(), Error> = || Err(Error::InvalidCode { expired: true });
        let done: fn() -> Result<(), Error> = || Ok(());
        // (why, the second call's answer, the account changed since the first, status, code,
        // sign-outs)
        let cases = [
            (
                "a wrong code, though someone changed the user",
                wrong,
                true,
                400,
                Some("INVALID_CODE"),
                0,
            ),
            ("a code the first call spent", spent, true, 200, None, 1),
            (
                "a spent code, no change shown",
                spent,
                false,
                503,
                Some("UPSTREAM_UNAVAILABLE"),
                0,
            ),
            ("the first call never arrived", done, false, 200, None, 1),
        ];
        for (why, second, changed, status, code, sign_outs) in cases {
            let adapter = Scripted {
                calls: Arc::default(),
                sign_outs: Arc::default(),
                second,
                changed_at: Arc::default(),
            };
            let resets = crate::PasswordResets::new(
                crate::testkit::config(&demo_config()),
                Box::new(MemoryStore::returning_old()),
                Arc::new(crate::SystemClock),
                |_| Ok(Box::new(adapter.clone()) as Box<dyn ResetAdapter>),
            )
            .expect("the function");
            let function = crate::App::new(resets);
            let alice = serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
            let event = post(
                "/v1/targets/app-users/password-reset/confirm",
                alice,
                "k-confirm",
                r#"{"code":"731904","password":"Quiet-Harbour-Lantern-42"}"#,
            );
            let first = function.handle_event(&event, &context()).await;
            assert_eq!(first.status_code, 503, "{why}: {}", first.body);
            if changed {
                *adapter.changed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(now());
            }
            let retry = function.handle_event(&event, &context()).await;
            assert_eq!(
                (retry.status_code, code_of(&retry.body).as_deref()),
                (status, code),
                "{why}: {}",
                retry.body
            );
            assert_eq!(adapter.calls.load(Ordering::SeqCst), 2, "{why}: sent again");
            assert_eq!(adapter.sign_outs.load(Ordering::SeqCst), sign_outs, "{why}");
            if status == 503 {
                assert!(
                    retry.body.contains("outcome_unknown"),
                    "{why}: {}",
                    retry.body
                );
            }
        }
    }

    /// A wrong code spends the rate limits as a reset does: guessing codes is bounded by the
    /// function, not only by Cognito.
    #[tokio::test]
    async fn wrong_codes_count_against_the_limits() {
        let adapter = CountingAdapter::with_sessions();
        adapter.expect_code("731904");
        let mut document: serde_json::Value = serde_json::from_str(&demo_config()).expect("json");
        document["targets"][0]["rateLimits"] =
            serde_json::json!({"perAccountPerHour": 2, "perCallerPerHour": 10});
        let function = app(&adapter, &document.to_string());
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        let confirm = "/v1/targets/app-users/password-reset/confirm";
        let mut codes = Vec::new();
        for (key, code) in [("k1", "000001"), ("k2", "000002"), ("k3", "731904")] {
            let body = format!(r#"{{"code":"{code}","password":"Quiet-Harbour-Lantern-42"}}"#);
            let response = function
                .handle_event(&post(confirm, alice.clone(), key, &body), &context())
                .await;
            codes.push(code_of(&response.body));
        }
        assert_eq!(
            codes,
            [
                Some("INVALID_CODE".to_owned()),
                Some("INVALID_CODE".to_owned()),
                Some("RATE_LIMITED".to_owned())
            ]
        );
        assert_eq!(
            adapter.resets(),
            2,
            "the third guess never reached the back-end"
        );
    }

    fn body_password(body: &str) -> String {
        let body: serde_json::Value = serde_json::from_str(body).expect("json");
        body["password"].as_str().expect("a password").to_owned()
    }

    /// A deployment that accepts only ID tokens of one app client (a REST API's Cognito
    /// authorizer accepts any client of the pool): every other token is 401 before anything
    /// else, on the reset routes and the target list alike.
    #[tokio::test]
    async fn only_the_tokens_the_deployment_accepts_reach_the_use_case() {
        let mut config: serde_json::Value = serde_json::from_str(&demo_config()).expect("json");
        config["tokenUse"] = serde_json::json!(["id"]);
        config["trustedClientIds"] = serde_json::json!(["portal"]);
        let config = config.to_string();
        let own = "/v1/targets/app-users/password-reset";
        let token = |token_use: &str, client: (&str, &str)| {
            let mut claims = serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER,
                "cognito:username": "alice", "token_use": token_use});
            claims[client.0] = client.1.into();
            claims
        };
        struct Case {
            why: &'static str,
            claims: serde_json::Value,
            status: u16,
        }
        let cases = [
            Case {
                why: "an ID token of the trusted app client",
                claims: token("id", ("aud", "portal")),
                status: 202,
            },
            Case {
                why: "an access token, where only ID tokens are accepted",
                claims: token("access", ("client_id", "portal")),
                status: 401,
            },
            Case {
                why: "an ID token of another app client of the same pool",
                claims: token("id", ("aud", "another-client")),
                status: 401,
            },
        ];
        for (n, case) in cases.into_iter().enumerate() {
            let adapter = CountingAdapter::default();
            let app = app(&adapter, &config);
            let response = app
                .handle_event(
                    &post(
                        own,
                        case.claims.clone(),
                        &format!("k-{n}"),
                        r#"{"mode":"code"}"#,
                    ),
                    &context(),
                )
                .await;
            assert_eq!(response.status_code, case.status, "{}", case.why);
            assert_eq!(
                adapter.resets(),
                usize::from(case.status == 202),
                "{}",
                case.why
            );
            let mut list: serde_json::Value =
                serde_json::from_str(include_str!("../../events/targets-list.json"))
                    .expect("event");
            list["requestContext"]["authorizer"]["jwt"]["claims"] = case.claims;
            let listed = app.handle_event(&list.to_string(), &context()).await;
            let expected = if case.status == 401 { 401 } else { 200 };
            assert_eq!(listed.status_code, expected, "the list, {}", case.why);
        }
    }

    #[tokio::test]
    async fn the_target_list_shows_only_what_the_caller_may_do() {
        let adapter = CountingAdapter::default();
        let helen = serde_json::json!({"sub": "s-helen", "cognito:groups": "[helpdesk]"});
        let nobody = serde_json::json!({"sub": "s-nobody"});
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../events/targets-list.json")).expect("event");
        event["requestContext"]["authorizer"]["jwt"]["claims"] = helen;
        let response = app(&adapter, &demo_config())
            .handle_event(&event.to_string(), &context())
            .await;
        let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"targets": [
                {"name": "app-users", "service": "cognito", "modes": ["code", "generate", "set"], "self": false, "admin": true, "confirm": false},
                {"name": "kiosk-users", "service": "cognito", "modes": ["generate"], "self": false, "admin": true, "confirm": false}
            ]})
        );
        // alice's own account: a confirm is offered where the target has a recovery client.
        let alice =
            serde_json::json!({"sub": "s-alice", "iss": DEMO_ISSUER, "cognito:username": "alice"});
        event["requestContext"]["authorizer"]["jwt"]["claims"] = alice;
        let response = app(&adapter, &demo_config())
            .handle_event(&event.to_string(), &context())
            .await;
        let body: serde_json::Value = serde_json::from_str(&response.body).expect("json");
        let confirm: Vec<(&str, bool)> = body["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .map(|t| (t["name"].as_str().unwrap_or(""), t["confirm"] == true))
            .collect();
        assert_eq!(confirm, [("app-users", true), ("kiosk-users", false)]);
        event["requestContext"]["authorizer"]["jwt"]["claims"] = nobody;
        let response = app(&adapter, &demo_config())
            .handle_event(&event.to_string(), &context())
            .await;
        assert_eq!(response.body, r#"{"targets":[]}"#);
    }
}

/// Fuzzing the edge through the real entry point, which takes the runtime's raw JSON: whatever
/// arrives (any query string, header, body, base64 flag, path parameter, claims), the answer
/// is a contract status, never a panic (which the handler would turn into a 500) and never a
/// 502, with exactly one audit line. `PROPTEST_CASES` sets the number of cases (`make fuzz`
/// runs many more than `make test`).
mod fuzz {
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use crate::testkit::{CountingAdapter, app, context, demo_config};

    /// What a request may be answered with, short of a bug (500) or an outage (503).
    const CONTRACT: [u16; 12] = [200, 202, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429];

    /// Whether `event` is an API Gateway request at all: a JSON object that decodes as one of
    /// the proxy event shapes. Anything else (not JSON, another JSON value, a console test, an
    /// unknown shape) has one right answer: 401.
    fn is_an_event(event: &str) -> bool {
        serde_json::from_str::<Value>(event).is_ok_and(|value| value.is_object())
            && crate::http::event::decode(event).is_some()
    }

    /// Any JSON value, objects nested a few levels deep; their keys include the top-level
    /// names of the proxy events, so some come close to one.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
        ];
        let key = prop_oneof![
            ".{0,12}",
            "version|routeKey|rawPath|httpMethod|path|headers|body|requestContext|authorizer|claims|jwt|sub",
        ];
        leaf.prop_recursive(3, 24, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::hash_map(key.clone(), inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    fn sample(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("event")).expect("json")
    }

    /// The log lines written while a request is answered.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    /// The status of the answer to `event`, and how many audit lines it wrote.
    fn answer(event: &str) -> (u16, usize) {
        let lines = Lines::default();
        let subscriber = crate::logging::subscriber(tracing::Level::INFO, lines.clone());
        let status = tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            let app = app(&CountingAdapter::default(), &demo_config());
            runtime
                .block_on(app.handle_event(event, &context()))
                .status_code
        });
        let written = lines.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let audits = String::from_utf8_lossy(&written)
            .lines()
            .filter(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|line| line["audit"] == true)
            })
            .count();
        (status, audits)
    }

    /// Every request writes one Embedded Metric Format line of its own (not a field of the
    /// audit line): namespace `resetgate`, dimensions `Target` and `Outcome`, and what it
    /// counts; never a username.
    #[test]
    fn every_request_is_one_emf_line() {
        let lines = Lines::default();
        let subscriber = crate::logging::subscriber(tracing::Level::INFO, lines.clone());
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            let app = app(&CountingAdapter::default(), &demo_config());
            let alice = json!({"sub": "s-alice", "iss": crate::testkit::DEMO_ISSUER, "cognito:username": "alice"});
            for (n, path) in [
                "/v1/targets/app-users/password-reset",
                "/v1/targets/app-users/users/bob/password-reset",
                "/v1/targets/made-up-name-7f3a/password-reset",
            ]
            .into_iter()
            .enumerate()
            {
                let event = crate::testkit::events::post(
                    path,
                    alice.clone(),
                    &format!("emf-{n}"),
                    r#"{"mode":"generate"}"#,
                );
                runtime.block_on(app.handle_event(&event, &context()));
            }
        });
        let written = lines.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let emf: Vec<Value> = String::from_utf8_lossy(&written)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line.get("_aws").is_some())
            .collect();
        assert_eq!(emf.len(), 3, "{emf:#?}");
        assert_eq!(
            (&emf[2]["Target"], &emf[2]["Outcome"]),
            (&json!("-"), &json!("UNKNOWN_TARGET")),
            "a made-up target name is no dimension"
        );
        let directive = &emf[0]["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "resetgate");
        assert_eq!(
            directive["Dimensions"],
            json!([["Target", "Outcome"], ["Outcome"]])
        );
        assert_eq!(
            (
                &emf[0]["Target"],
                &emf[0]["Outcome"],
                &emf[0]["Resets"],
                &emf[0]["Refusals"]
            ),
            (&json!("app-users"), &json!("OK"), &json!(1), &json!(0))
        );
        assert!(emf[0]["BackendLatencyMs"].is_number());
        assert_eq!(
            (&emf[1]["Outcome"], &emf[1]["Resets"], &emf[1]["Refusals"]),
            (&json!("FORBIDDEN"), &json!(0), &json!(1))
        );
        for line in &emf {
            let text = line.to_string();
            assert!(
                !text.contains("alice") && !text.contains("bob"),
                "a username: {text}"
            );
        }
    }

    #[test]
    fn every_event_shape_gets_a_contract_answer_and_one_audit_line() {
        let base = sample("self-generate.json");
        let rest = sample("rest-self-generate.json");
        type Mutation = fn(&mut Value);
        /// An event of a shape API Gateway may deliver, and its one contract answer.
        struct Case<'a> {
            why: &'a str,
            event: &'a Value,
            mutate: Mutation,
            status: u16,
            code: Option<&'a str>,
        }
        let cases = vec![
            Case {
                why: "a quote and brackets in the query",
                event: &base,
                mutate: |e| e["rawQueryString"] = r#"a="b"&c=<d>&e={f}|g"#.into(),
                status: 200,
                code: None,
            },
            Case {
                why: "a brace in Host, a bad X-Forwarded-Proto",
                event: &base,
                mutate: |e| {
                    e["headers"]["host"] = "ex{ample}.com".into();
                    e["headers"]["x-forwarded-proto"] = "not a scheme".into();
                },
                status: 200,
                code: None,
            },
            Case {
                why: "a REST path that parses as a port",
                event: &rest,
                mutate: |e| {
                    e["path"] = ":99999".into();
                    e["headers"]["Host"] = "a b".into();
                },
                status: 200,
                code: None,
            },
            Case {
                why: "a REST query with quotes",
                event: &rest,
                mutate: |e| {
                    e["queryStringParameters"] = json!({"a": "\"<>"});
                    e["multiValueQueryStringParameters"] = json!({"a": ["\"<>", "{}"]});
                },
                status: 200,
                code: None,
            },
            Case {
                why: "a body flagged base64 that is not",
                event: &base,
                mutate: |e| {
                    e["isBase64Encoded"] = true.into();
                    e["body"] = "!!! not base64".into();
                },
                status: 400,
                code: Some("INVALID_REQUEST"),
            },
            Case {
                why: "a base64 body",
                event: &base,
                mutate: |e| {
                    e["isBase64Encoded"] = true.into();
                    e["body"] = "eyJtb2RlIjoiZ2VuZXJhdGUifQ==".into();
                },
                status: 200,
                code: None,
            },
            Case {
                why: "a JSON array body",
                event: &base,
                mutate: |e| e["body"] = r#"["generate"]"#.into(),
                status: 400,
                code: Some("INVALID_REQUEST"),
            },
            Case {
                why: "a JSON string body",
                event: &base,
                mutate: |e| e["body"] = r#""generate""#.into(),
                status: 400,
                code: Some("INVALID_REQUEST"),
            },
            Case {
                why: "an Idempotency-Key twice, REST",
                event: &rest,
                mutate: |e| {
                    e["multiValueHeaders"]["idempotency-key"] = json!(["k-1", "k-2"]);
                },
                status: 400,
                code: Some("IDEMPOTENCY_KEY_INVALID"),
            },
            Case {
                why: "an Idempotency-Key twice, HTTP API",
                event: &base,
                mutate: |e| e["headers"]["idempotency-key"] = "k-1,k-2".into(),
                status: 400,
                code: Some("IDEMPOTENCY_KEY_INVALID"),
            },
            Case {
                why: "an unknown target",
                event: &base,
                mutate: |e| {
                    e["routeKey"] = "$default".into();
                    e["requestContext"]["routeKey"] = "$default".into();
                    e["pathParameters"] = Value::Null;
                    e["rawPath"] = "/v1/targets/no-such-target/password-reset".into();
                },
                status: 404,
                code: Some("UNKNOWN_TARGET"),
            },
        ];
        for Case {
            why: name,
            event: base,
            mutate,
            status,
            code,
        } in cases
        {
            let mut event = base.clone();
            mutate(&mut event);
            let (got, audits) = answer(&event.to_string());
            assert_eq!(got, status, "{name}");
            assert_eq!(audits, 1, "{name}");
            if let Some(code) = code {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                let response = runtime.block_on(
                    app(&CountingAdapter::default(), &demo_config())
                        .handle_event(&event.to_string(), &context()),
                );
                let body: Value = serde_json::from_str(&response.body).expect("json");
                assert_eq!(body["code"], code, "{name}");
            }
        }
    }

    #[test]
    fn the_audit_line_names_the_requested_target_and_its_code() {
        let mut event = sample("self-generate.json");
        event["routeKey"] = "$default".into();
        event["requestContext"]["routeKey"] = "$default".into();
        event["pathParameters"] = Value::Null;
        event["rawPath"] = "/v1/targets/no-such-target/password-reset".into();
        let lines = Lines::default();
        let subscriber = crate::logging::subscriber(tracing::Level::INFO, lines.clone());
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            runtime.block_on(
                app(&CountingAdapter::default(), &demo_config())
                    .handle_event(&event.to_string(), &context()),
            );
        });
        let written = String::from_utf8(lines.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .expect("utf-8");
        let audit: Value = written
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["audit"] == true)
            .expect("an audit line");
        assert_eq!(audit["target"], "no-such-target");
        assert_eq!(audit["code"], "UNKNOWN_TARGET");
    }

    proptest! {
        #[test]
        fn any_bytes_as_an_event(event in ".{0,400}") {
            let (status, audits) = answer(&event);
            if is_an_event(&event) {
                prop_assert!(CONTRACT.contains(&status), "{status} for {event:?}");
            } else {
                prop_assert_eq!(status, 401, "{:?}", event);
            }
            prop_assert_eq!(audits, 1);
        }

        /// JSON that is not an API Gateway event (a console test, a direct invocation, another
        /// service's event): 401, whatever it holds.
        #[test]
        fn any_json_that_is_not_an_event(event in json_value()) {
            let event = event.to_string();
            prop_assume!(!is_an_event(&event));
            let (status, audits) = answer(&event);
            prop_assert_eq!(status, 401, "{}", event);
            prop_assert_eq!(audits, 1);
        }

        /// A request on a route of the contract that no JWT or Cognito authorizer vouched for
        /// (none, an IAM or Lambda authorizer, claims without a `sub` or with a blank one):
        /// 401, whatever its body, headers or key.
        #[test]
        fn without_an_authorizer_or_a_sub_only_401(
            which in 0usize..6,
            how in 0usize..7,
            blank in "[ \t]{0,3}",
            body in prop_oneof![".{0,200}", Just(String::new()), "\\{\"mode\":\"(code|generate|set)\"(,\"password\":\".{0,40}\")?\\}"],
            base64 in any::<bool>(),
            content_type in prop_oneof![Just("application/json".to_owned()), ".{0,30}"],
            key in prop::option::of(".{0,140}"),
            headers in prop::collection::hash_map("[a-z-]{1,12}", ".{0,40}", 0..4),
        ) {
            let mut event = sample([
                "self-generate.json",
                "self-set.json",
                "rest-self-generate.json",
                "payload-v1-self-code.json",
                "dir-admin-generate.json",
                "targets-list.json",
            ][which]);
            let v2 = event["version"] == "2.0";
            let context = event["requestContext"].as_object_mut().expect("a request context");
            let claims = if v2 {
                &mut context["authorizer"]["jwt"]["claims"]
            } else {
                &mut context["authorizer"]["claims"]
            };
            let sub = claims["sub"].clone();
            match how {
                0 => { context.remove("authorizer"); }
                1 => { context.insert("authorizer".into(), Value::Null); }
                2 => { context.insert("authorizer".into(), json!({})); }
                3 => { claims.as_object_mut().expect("claims").remove("sub"); }
                4 => claims["sub"] = blank.clone().into(),
                // A Lambda authorizer's context (primitive values only): what it says is not a
                // token's claims.
                5 => {
                    let said = json!({"sub": sub, "cognito:username": "alice", "principalId": sub});
                    let authorizer = if v2 { json!({"lambda": said}) } else { said };
                    context.insert("authorizer".into(), authorizer);
                }
                // IAM authorization: a caller identity, no claims.
                _ => {
                    let authorizer = if v2 {
                        json!({"iam": {"accessKey": "AKIA", "accountId": "123456789012", "userArn": "arn:aws:iam::123456789012:user/alice", "userId": "AIDA"}})
                    } else {
                        json!({"principalId": "arn:aws:iam::123456789012:user/alice"})
                    };
                    context.insert("authorizer".into(), authorizer);
                }
            }
            event["body"] = body.into();
            event["isBase64Encoded"] = base64.into();
            for (name, value) in &headers {
                event["headers"][name] = value.clone().into();
            }
            event["headers"]["content-type"] = content_type.into();
            match &key {
                Some(key) => event["headers"]["idempotency-key"] = key.clone().into(),
                None => { event["headers"].as_object_mut().map(|h| h.remove("idempotency-key")); }
            }
            let (status, audits) = answer(&event.to_string());
            prop_assert_eq!(status, 401, "{}", event);
            prop_assert_eq!(audits, 1, "{}", event);
        }

        #[test]
        fn any_whole_event(
            which in 0usize..4,
            body in prop_oneof![".{0,300}", Just(String::new()), "\\{\"mode\":\"(code|generate|set)\"(,\"password\":\".{0,40}\")?(,\"clientToken\":\".{0,20}\")?\\}", "\\[\"(code|generate|set)\"(,\".{0,20}\")?\\]", "[A-Za-z0-9+/=!]{0,60}"],
            base64 in any::<bool>(),
            content_type in prop_oneof![Just("application/json".to_owned()), ".{0,30}"],
            key in prop::option::of(".{0,140}"),
            keys in prop::collection::vec("[!-~]{1,10}", 0..3),
            query in ".{0,80}",
            host in prop::option::of(".{0,40}"),
            headers in prop::collection::hash_map("[a-z-]{1,12}", ".{0,40}", 0..4),
            target in "[a-z-]{0,12}|app-users|corp-ad|research",
            user in prop::option::of(".{0,70}"),
            declared in any::<bool>(),
            groups in ".{0,40}",
            method in prop_oneof![Just("POST".to_owned()), Just("GET".to_owned()), Just("PUT".to_owned()), "[A-Z]{1,8}"],
        ) {
            let mut event = sample(["self-generate.json", "rest-self-generate.json", "payload-v1-self-code.json", "dir-admin-generate.json"][which]);
            let path = match &user {
                Some(user) => format!("/v1/targets/{target}/users/{}/password-reset", user.replace(['/', '?', '#'], "%2F")),
                None => format!("/v1/targets/{target}/password-reset"),
            };
            event["body"] = body.clone().into();
            event["isBase64Encoded"] = base64.into();
            for (name, value) in &headers {
                event["headers"][name] = value.clone().into();
            }
            event["headers"]["content-type"] = content_type.into();
            if let Some(host) = &host {
                event["headers"]["host"] = host.clone().into();
            }
            match &key {
                Some(key) => event["headers"]["idempotency-key"] = key.clone().into(),
                None => { event["headers"].as_object_mut().map(|h| h.remove("idempotency-key")); }
            }
            let mut params = json!({"target": target});
            if let Some(user) = &user {
                params["username"] = user.clone().into();
            }
            if event.get("rawPath").is_some() {
                event["rawPath"] = path.clone().into();
                event["rawQueryString"] = query.into();
                if declared {
                    event["pathParameters"] = params;
                } else {
                    // A `$default` route: the function routes by the path.
                    event["routeKey"] = "$default".into();
                    event["requestContext"]["routeKey"] = "$default".into();
                    event["pathParameters"] = Value::Null;
                }
                event["requestContext"]["http"]["path"] = path.into();
                event["requestContext"]["http"]["method"] = method.into();
                event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = groups.into();
            } else {
                event["path"] = path.into();
                event["queryStringParameters"] = json!({"q": query});
                if declared {
                    event["pathParameters"] = params;
                } else {
                    event["resource"] = "/{proxy+}".into();
                    event["requestContext"]["resourcePath"] = "/{proxy+}".into();
                    event["pathParameters"] = Value::Null;
                }
                event["httpMethod"] = method.into();
                event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = groups.into();
                event["multiValueHeaders"] = json!({"idempotency-key": keys});
            }
            let event = event.to_string();
            let (status, audits) = answer(&event);
            if is_an_event(&event) {
                prop_assert!(CONTRACT.contains(&status), "{status} for {event}");
            } else {
                // A header API Gateway would never send, say: not a request we can read.
                prop_assert_eq!(status, 401, "{}", event);
            }
            prop_assert_eq!(audits, 1, "{}", event);
        }

        /// Any claims on alice's own `set` request. Without a `sub` (or with a blank one) the
        /// only answer is 401. With one, the caller is authenticated (the demo configuration
        /// narrows no token use or client): never 401; and unless the claims name alice and
        /// the issuer her target trusts, her account is not theirs to reset: 403.
        #[test]
        fn any_claims(
            claims in prop::collection::hash_map(".{0,20}", ".{0,40}", 0..8),
            sub in prop_oneof![Just(None), ".{0,40}".prop_map(Some), "[ \t]{0,3}".prop_map(Some)],
        ) {
            let mut event = sample("self-set.json");
            let mut claims: serde_json::Map<String, Value> = claims.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            if let Some(sub) = sub { claims.insert("sub".into(), sub.into()); }
            let has_sub = claims.get("sub").and_then(Value::as_str).is_some_and(|sub| !sub.trim().is_empty());
            let names_alice = claims.get("iss").is_some_and(|iss| iss == crate::testkit::DEMO_ISSUER)
                && claims.get("cognito:username").and_then(Value::as_str).is_some_and(|name| !name.is_empty());
            event["requestContext"]["authorizer"]["jwt"]["claims"] = Value::Object(claims);
            let (status, audits) = answer(&event.to_string());
            if !has_sub {
                prop_assert_eq!(status, 401, "{}", event);
            } else if !names_alice {
                prop_assert_eq!(status, 403, "{}", event);
            } else {
                prop_assert!(CONTRACT.contains(&status) && status != 401, "{status} for {event}");
            }
            prop_assert_eq!(audits, 1);
        }
    }
}

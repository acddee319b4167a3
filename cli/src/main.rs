//! `resetgate-cli`: resetgate's API on the command line, in the AWS CLI's manner, and `check`,
//! a preflight check of a deployment's configuration against AWS.
//!
//! The user's guide is `docs/CLI.md`; the API it speaks is `docs/API.md` and `openapi.yaml`.
//!
//! # Layout
//!
//! ```text
//! main → cli (clap) → input, settings, token → commands → client → answer → output
//!      → check (its own AWS calls) → output
//! ```
//!
//! - `cli`: the commands, flags, help and examples.
//! - `exit`: the one table from failure to exit code (the AWS CLI's codes), and the AWS-style
//!   error message.
//! - `settings`: flags, environment, profiles file, defaults.
//! - `token`: the bearer token, its sources and its expiry.
//! - `input`: `--cli-input-json|yaml`, the password from standard input, client tokens.
//! - `skeleton`: `--generate-cli-skeleton`.
//! - `client`: HTTPS, one request and its attempts, the same idempotency key on each.
//! - `answer`: what an answer means (success, retry, refusal, a 401) and the retry policy.
//! - `commands`: the API's three operations.
//! - `output`: `--output` and `--query`.
//! - `debug`: `--debug`, and the redaction that keeps secrets out of stderr.
//! - `interrupt`: Ctrl-C.
//! - `check`: the deployment check.

mod answer;
mod check;
mod cli;
mod client;
mod commands;
mod debug;
mod exit;
mod input;
mod interrupt;
mod output;
mod settings;
mod skeleton;
mod token;

use std::{io::Write as _, process::ExitCode, time::Duration};

use clap::{CommandFactory as _, Parser as _};
use serde_json::Value;

use crate::{
    answer::RetryPolicy,
    cli::{Cli, Command, ConfirmArgs, GlobalArgs, InputArgs, ResetArgs},
    client::{ApiClient, Endpoint, Timeouts, USER_AGENT},
    debug::{DebugLog, Redactor},
    exit::{Exit, Failure},
    input::{
        ConfirmInput, ConfirmRequest, Operation, ResetInput, ResetRequest, from_document,
        parse_client_metadata, read_document, read_password,
    },
    interrupt::CtrlC,
    output::{OutputFormat, Query, render},
    settings::{ENDPOINT_VAR, Environment, Flags, Settings, TOKEN_VAR},
    skeleton::skeleton,
    token::{BearerToken, ProcessStdin, human_duration},
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // --help and --version are not errors; everything else clap refuses is usage (252).
            return ExitCode::from(if error.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Ok.code()
            });
        }
    };
    let redactor = Redactor::default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("resetgate-cli: cannot start: {error}");
            return ExitCode::from(Exit::Other.code());
        }
    };
    match runtime.block_on(run(cli, redactor.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let message = failure.message();
            if !message.is_empty() {
                eprintln!("{}", redactor.mask(&message));
            }
            ExitCode::from(failure.exit().code())
        }
    }
}

async fn run(cli: Cli, redactor: Redactor) -> Result<(), Failure> {
    let log = DebugLog::new(cli.global.debug, redactor.clone());
    log.line(format!(
        "{USER_AGENT}; {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    ));
    let env = Environment::from_process();
    match cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "resetgate-cli", &mut out);
            write_stdout(&String::from_utf8_lossy(&out))
        }
        Command::ListTargets(args) => {
            list_targets(&cli.global, &args.input, &env, &log, &redactor).await
        }
        Command::ResetUserPassword(args) => reset(&cli.global, args, &env, &log, &redactor).await,
        Command::ConfirmPasswordReset(args) => {
            confirm(&cli.global, args, &env, &log, &redactor).await
        }
        Command::Check(args) => {
            let query = cli
                .global
                .query
                .as_deref()
                .map(Query::compile)
                .transpose()?;
            let settings = resolve_settings(&cli.global, &env, &log)?;
            let report = interruptible(check::run(&args, &log), None).await?;
            print_output(
                &report.to_json(),
                query.as_ref(),
                settings.output.value,
                "Check",
                &redactor,
            )?;
            if report.failed() {
                Err(Failure::CheckFailed)
            } else {
                Ok(())
            }
        }
    }
}

/// `--generate-cli-skeleton`: printed, and nothing else done.
fn print_skeleton(input: &InputArgs, operation: Operation) -> Option<Result<(), Failure>> {
    input
        .generate_cli_skeleton
        .map(|kind| write_stdout(&skeleton(operation, kind)))
}

async fn list_targets(
    global: &GlobalArgs,
    input: &InputArgs,
    env: &Environment,
    log: &DebugLog,
    redactor: &Redactor,
) -> Result<(), Failure> {
    if let Some(done) = print_skeleton(input, Operation::ListTargets) {
        return done;
    }
    let query = global.query.as_deref().map(Query::compile).transpose()?;
    let document = read_document(
        input.cli_input_json.as_deref(),
        input.cli_input_yaml.as_deref(),
    )?;
    from_document::<serde::de::IgnoredAny>(document, Operation::ListTargets)?;
    let settings = resolve_settings(global, env, log)?;
    let endpoint = endpoint(&settings)?;
    let token = bearer_token(&settings, env, true, log, redactor)?;
    let client = api_client(global, endpoint, token, &settings, log)?;
    let answer = interruptible(commands::list_targets(&client), None).await?;
    print_output(
        &answer,
        query.as_ref(),
        settings.output.value,
        Operation::ListTargets.name(),
        redactor,
    )
}

async fn reset(
    global: &GlobalArgs,
    args: ResetArgs,
    env: &Environment,
    log: &DebugLog,
    redactor: &Redactor,
) -> Result<(), Failure> {
    if let Some(done) = print_skeleton(&args.input, Operation::ResetUserPassword) {
        return done;
    }
    let query = global.query.as_deref().map(Query::compile).transpose()?;
    let document = read_document(
        args.input.cli_input_json.as_deref(),
        args.input.cli_input_yaml.as_deref(),
    )?;
    let from_file: ResetInput = from_document(document, Operation::ResetUserPassword)?;
    let flags = ResetInput {
        target: args.target,
        user_name: args.user_name,
        mode: args.mode,
        client_token: args.client_token,
        client_metadata: args
            .client_metadata
            .as_deref()
            .map(parse_client_metadata)
            .transpose()?,
    };
    let mut request = ResetRequest::check(flags.over(from_file), args.password_stdin)?;
    let settings = resolve_settings(global, env, log)?;
    let endpoint = endpoint(&settings)?;
    if args.password_stdin {
        let password = read_password(&mut ProcessStdin)?;
        redactor.add(&password);
        request.password = Some(password);
    }
    let token = bearer_token(&settings, env, !args.password_stdin, log, redactor)?;
    let token_note = if request.client_token.generated {
        "generated"
    } else {
        "--client-token"
    };
    log.line(format!(
        "client token {} ({token_note})",
        request.client_token.value
    ));
    match &request.user_name {
        Some(user) => log.line(format!(
            "admin reset of {user} on {}, mode {}",
            request.target,
            request.mode.as_str()
        )),
        None => log.line(format!(
            "self-service reset on {}, mode {}",
            request.target,
            request.mode.as_str()
        )),
    }
    let client = api_client(global, endpoint, token, &settings, log)?;
    let answer = interruptible(
        commands::reset_user_password(&client, &request),
        Some(&request.client_token.value),
    )
    .await?;
    print_output(
        &answer,
        query.as_ref(),
        settings.output.value,
        Operation::ResetUserPassword.name(),
        redactor,
    )
}

async fn confirm(
    global: &GlobalArgs,
    args: ConfirmArgs,
    env: &Environment,
    log: &DebugLog,
    redactor: &Redactor,
) -> Result<(), Failure> {
    if let Some(done) = print_skeleton(&args.input, Operation::ConfirmPasswordReset) {
        return done;
    }
    let query = global.query.as_deref().map(Query::compile).transpose()?;
    let document = read_document(
        args.input.cli_input_json.as_deref(),
        args.input.cli_input_yaml.as_deref(),
    )?;
    let from_file: ConfirmInput = from_document(document, Operation::ConfirmPasswordReset)?;
    let flags = ConfirmInput {
        target: args.target,
        code: args.code,
        client_token: args.client_token,
    };
    let (target, code, client_token) = ConfirmRequest::check(flags.over(from_file))?;
    if !args.password_stdin {
        return Err(Failure::Usage(
            "confirm-password-reset needs --password-stdin: the new password is read from standard input, never from the command line".into(),
        ));
    }
    redactor.add(&code);
    let settings = resolve_settings(global, env, log)?;
    let endpoint = endpoint(&settings)?;
    let password = read_password(&mut ProcessStdin)?;
    redactor.add(&password);
    let token = bearer_token(&settings, env, false, log, redactor)?;
    let token_note = if client_token.generated {
        "generated"
    } else {
        "--client-token"
    };
    log.line(format!(
        "client token {} ({token_note})",
        client_token.value
    ));
    let request = ConfirmRequest {
        target,
        code,
        password,
        client_token,
    };
    let client = api_client(global, endpoint, token, &settings, log)?;
    let answer = interruptible(
        commands::confirm_password_reset(&client, &request),
        Some(&request.client_token.value),
    )
    .await?;
    print_output(
        &answer,
        query.as_ref(),
        settings.output.value,
        Operation::ConfirmPasswordReset.name(),
        redactor,
    )
}

fn resolve_settings(
    global: &GlobalArgs,
    env: &Environment,
    log: &DebugLog,
) -> Result<Settings, Failure> {
    let settings = settings::resolve(
        &Flags {
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
            output: global.output,
            token_file: global.token_file.clone(),
        },
        env,
    )?;
    if log.enabled() {
        let file = settings
            .profiles_file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "(none)".into());
        match &settings.profile {
            Some(profile) => log.line(format!(
                "profile {} ({}) of {file}",
                profile.value, profile.source
            )),
            None => log.line(format!("no profile (profiles file {file})")),
        }
        if let Some(url) = &settings.endpoint_url {
            log.line(format!("endpoint {} (from {})", url.value, url.source));
        }
        log.line(
            format!(
                "output {:?} (from {})",
                settings.output.value, settings.output.source
            )
            .to_lowercase(),
        );
        log.line(format!(
            "max attempts {} (from {})",
            settings.max_attempts.value, settings.max_attempts.source
        ));
    }
    Ok(settings)
}

fn endpoint(settings: &Settings) -> Result<Endpoint, Failure> {
    let url = settings.endpoint_url.as_ref().ok_or_else(|| {
        Failure::Configuration(format!(
            "no endpoint: give the API's URL with --endpoint-url, the {ENDPOINT_VAR} environment variable, or endpoint_url in a profile of the profiles file ({})",
            settings
                .profiles_file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "~/.resetgate/config".into())
        ))
    })?;
    Endpoint::parse(url)
}

fn bearer_token(
    settings: &Settings,
    env: &Environment,
    stdin_free: bool,
    log: &DebugLog,
    redactor: &Redactor,
) -> Result<BearerToken, Failure> {
    let token = token::load(
        settings,
        env.get(TOKEN_VAR),
        stdin_free,
        &mut ProcessStdin,
        token::now(),
    )?;
    redactor.add(token.secret());
    log.line(format!(
        "token from {}: issuer {}, expires in {}",
        token.source,
        token.issuer.as_deref().unwrap_or("(none)"),
        human_duration(token.expires_at - token::now())
    ));
    Ok(token)
}

fn api_client(
    global: &GlobalArgs,
    endpoint: Endpoint,
    token: BearerToken,
    settings: &Settings,
    log: &DebugLog,
) -> Result<ApiClient, Failure> {
    ApiClient::new(
        endpoint,
        token,
        log.clone(),
        RetryPolicy::new(settings.max_attempts.value),
        Timeouts {
            connect: Duration::from_secs(global.cli_connect_timeout),
            read: Duration::from_secs(global.cli_read_timeout),
        },
    )
}

/// Runs the request until it ends or Ctrl-C; a reset interrupted names its client token.
async fn interruptible<T>(
    request: impl Future<Output = Result<T, Failure>>,
    client_token: Option<&str>,
) -> Result<T, Failure> {
    let ctrl_c =
        CtrlC::listen().map_err(|e| Failure::Other(format!("cannot watch for Ctrl-C: {e}")))?;
    tokio::select! {
        result = request => result,
        () = ctrl_c.wait() => Err(Failure::Interrupted(match client_token {
            Some(token) => format!(
                "interrupted. The reset may have been made: to learn its outcome without a second reset, run the same command again with --client-token {token} within 10 minutes"
            ),
            None => "interrupted".to_owned(),
        })),
    }
}

/// Prints the output: `--query` applied, then formatted. A generated password the query left
/// out is said to be lost (never printed elsewhere).
fn print_output(
    value: &Value,
    query: Option<&Query>,
    format: OutputFormat,
    title: &str,
    redactor: &Redactor,
) -> Result<(), Failure> {
    let shown = match query {
        Some(query) => query.apply(value)?,
        None => value.clone(),
    };
    let text = redactor.mask(&render(&shown, format, title));
    if let Some(password) = value.get("password").and_then(Value::as_str)
        && !text.contains(password)
    {
        eprintln!(
            "resetgate-cli: warning: the output leaves out the generated password (--query); it is delivered once and cannot be shown again"
        );
    }
    let written = write_stdout(&text);
    if written.is_err() && value.get("password").is_some() {
        return Err(Failure::Other(
            "the output could not be written: the generated password is lost (it is delivered once); reset again".into(),
        ));
    }
    written
}

fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Other(format!("the output could not be written: {e}")))
}

//! The command line: commands, flags, help and examples (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{input::Mode, output::OutputFormat, skeleton::SkeletonKind};

const ABOUT: &str = "resetgate's API on the command line, in the AWS CLI's manner";

const LONG_ABOUT: &str = "\
resetgate's API on the command line, in the AWS CLI's manner: list-targets,
reset-user-password and confirm-password-reset, with --cli-input-json/--cli-input-yaml,
--generate-cli-skeleton, --output, --query and --debug. `check` verifies a deployment's
configuration against AWS before go-live.

The endpoint comes from --endpoint-url, RESETGATE_ENDPOINT_URL or the profile's endpoint_url;
the bearer token (the signed-in user's ID token) from --token-file, RESETGATE_TOKEN, the
profile's token_file, or standard input. Profiles live in ~/.resetgate/config (or the file
RESETGATE_CLI_CONFIG_FILE names), selected with --profile or RESETGATE_PROFILE.

Exit codes: 0 ok, 252 usage, 253 configuration (endpoint, token, profile, a 401), 254 the
service refused (or check found a FAIL), 255 other (network), 130 interrupted.";

const EXAMPLES: &str = "\
Examples:
  resetgate-cli list-targets --output table
  resetgate-cli reset-user-password --target app-users --mode generate
  resetgate-cli reset-user-password --target app-users --user-name bob --mode code
  printf %s \"$NEW_PASSWORD\" | resetgate-cli reset-user-password --target corp-ad --mode set --password-stdin
  resetgate-cli check --config deploy/config/resetgate.json --output table
  resetgate-cli completions bash > /etc/bash_completion.d/resetgate-cli";

const LIST_EXAMPLES: &str = "\
Examples:
  # The targets you may act on: your own account (self) or others' (admin).
  resetgate-cli list-targets
  # Only the names of the targets where you are an admin, one per line.
  resetgate-cli list-targets --query 'targets[?admin].name' --output text";

const RESET_EXAMPLES: &str = "\
Examples:
  # Your own account on app-users, a generated password (printed once: keep it).
  resetgate-cli reset-user-password --target app-users --mode generate
  # Helpdesk: Cognito sends bob a code.
  resetgate-cli reset-user-password --target app-users --user-name bob --mode code
  # A password of your choosing, from a file or a pipe (never from the command line).
  resetgate-cli reset-user-password --target corp-ad --user-name bob.jones --mode set --password-stdin < pw.txt
  # Only the generated password, for a script.
  resetgate-cli reset-user-password --target corp-ad --user-name bob.jones --mode generate --query password --output text
  # From a file, as the AWS CLI does it; flags override its values.
  resetgate-cli reset-user-password --generate-cli-skeleton > reset.json
  resetgate-cli reset-user-password --cli-input-json file://reset.json --mode generate

The client token (Idempotency-Key) is generated unless --client-token gives one, and shown in
the output as clientToken. Run the same command with the same --client-token within 10
minutes to get the first answer again instead of a second reset (a generated password is not
shown twice). A 409 REQUEST_IN_PROGRESS or 503 UPSTREAM_UNAVAILABLE is retried with the same
token, after Retry-After.";

const CONFIRM_EXAMPLES: &str = "\
Examples:
  # The code Cognito sent you, and your new password from a file or a pipe.
  resetgate-cli confirm-password-reset --target app-users --code 123456 --password-stdin < pw.txt";

const CHECK_EXAMPLES: &str = "\
Examples:
  # With the operator's AWS credentials (AWS_PROFILE, AWS_REGION and so on).
  AWS_PROFILE=prod resetgate-cli check --config deploy/config/resetgate.json --output table
  # Also check that the keyed-hash secret is readable and long enough.
  resetgate-cli check --config resetgate.json --hmac-key-secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:resetgate-hmac

Exit 0 when no check FAILs (WARNs allowed), 254 when one does, 253 when the document cannot be
read or there are no AWS credentials or region.";

/// `resetgate-cli`.
#[derive(Debug, Parser)]
#[command(
    name = "resetgate-cli",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after its name.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The output format [default: json, or RESETGATE_DEFAULT_OUTPUT, or the profile's output]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_enum,
        value_name = "FORMAT"
    )]
    pub output: Option<OutputFormat>,
    /// A JMESPath query (jmespath.org) applied to the output
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "JMESPATH"
    )]
    pub query: Option<String>,
    /// What the CLI does, on stderr (never a password or a token)
    #[arg(long, global = true, help_heading = "Global options")]
    pub debug: bool,
    /// The API's base URL [or RESETGATE_ENDPOINT_URL, or the profile's endpoint_url]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,
    /// A profile of ~/.resetgate/config (or RESETGATE_CLI_CONFIG_FILE) [or RESETGATE_PROFILE]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// A file holding the bearer token (the signed-in user's ID token)
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    pub token_file: Option<PathBuf>,
    /// Seconds to wait for an answer, per attempt
    #[arg(long, global = true, help_heading = "Global options", value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub cli_read_timeout: u64,
    /// Seconds to wait for a connection, per attempt
    #[arg(long, global = true, help_heading = "Global options", value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub cli_connect_timeout: u64,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The targets you may act on (GET /v1/targets)
    #[command(after_help = LIST_EXAMPLES)]
    ListTargets(ListTargetsArgs),
    /// Reset a password: yours (self-service) or, as a target's admin, another user's
    #[command(after_help = RESET_EXAMPLES)]
    ResetUserPassword(ResetArgs),
    /// Set a new password with the code Cognito sent (POST .../password-reset/confirm)
    #[command(after_help = CONFIRM_EXAMPLES)]
    ConfirmPasswordReset(ConfirmArgs),
    /// Check a deployment's configuration document against AWS: PASS, WARN or FAIL per target
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "Examples:\n  resetgate-cli completions bash > ~/.local/share/bash-completion/completions/resetgate-cli\n  resetgate-cli completions zsh > \"${fpath[1]}/_resetgate-cli\"\n  resetgate-cli completions fish > ~/.config/fish/completions/resetgate-cli.fish"
    )]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `--cli-input-json`, `--cli-input-yaml` and `--generate-cli-skeleton`.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// The input as JSON, inline or file://PATH; flags override its values
    #[arg(long, value_name = "JSON", conflicts_with = "cli_input_yaml")]
    pub cli_input_json: Option<String>,
    /// The input as YAML, inline or file://PATH; flags override its values
    #[arg(long, value_name = "YAML")]
    pub cli_input_yaml: Option<String>,
    /// Print a skeleton of the input (input, yaml-input) or of the output, and send nothing
    #[arg(long, value_enum, value_name = "KIND", num_args = 0..=1, default_missing_value = "input")]
    pub generate_cli_skeleton: Option<SkeletonKind>,
}

/// list-targets.
#[derive(Debug, Clone, Args)]
pub struct ListTargetsArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

/// reset-user-password.
#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    /// The target's name (as list-targets shows it)
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// The account to reset; without it, your own (self-service)
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// code: Cognito sends a code; generate: a new password, printed once; set: yours, from stdin
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Read the new password (with --mode set) from standard input: a pipe or a file
    #[arg(long)]
    pub password_stdin: bool,
    /// The idempotency key (1-128 visible ASCII characters, no comma); generated if not given
    #[arg(long, value_name = "TOKEN")]
    pub client_token: Option<String>,
    /// With --mode code: strings for the pool's Lambda triggers, as JSON, file://PATH or k=v,k=v
    #[arg(long, value_name = "JSON")]
    pub client_metadata: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// confirm-password-reset.
#[derive(Debug, Clone, Args)]
pub struct ConfirmArgs {
    /// The target's name (as list-targets shows it)
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// The code Cognito sent
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
    /// Read the new password from standard input: a pipe or a file (required)
    #[arg(long)]
    pub password_stdin: bool,
    /// The idempotency key (1-128 visible ASCII characters, no comma); generated if not given
    #[arg(long, value_name = "TOKEN")]
    pub client_token: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// check.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The deployment's configuration document (the JSON the function reads)
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The keyed-hash secret's ARN, to check it is readable and long enough
    #[arg(long, value_name = "ARN", env = "RESETGATE_HMAC_KEY_SECRET_ARN")]
    pub hmac_key_secret_arn: Option<String>,
    /// The AWS region [default: AWS_REGION or the AWS profile's]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_help_with_examples() {
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(
                help.contains("Examples:"),
                "{} has no examples:\n{help}",
                sub.get_name()
            );
        }
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let a =
            Cli::try_parse_from(["resetgate-cli", "--output", "table", "list-targets"]).unwrap();
        let b =
            Cli::try_parse_from(["resetgate-cli", "list-targets", "--output", "table"]).unwrap();
        assert_eq!(a.global.output, Some(OutputFormat::Table));
        assert_eq!(b.global.output, Some(OutputFormat::Table));
    }

    #[test]
    fn there_is_no_password_flag() {
        for args in [
            vec![
                "resetgate-cli",
                "reset-user-password",
                "--target",
                "t",
                "--mode",
                "set",
                "--password",
                "x",
            ],
            vec![
                "resetgate-cli",
                "confirm-password-reset",
                "--target",
                "t",
                "--code",
                "1",
                "--password",
                "x",
            ],
        ] {
            let error = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument);
        }
    }

    #[test]
    fn the_skeleton_flag_defaults_to_input() {
        let cli = Cli::try_parse_from([
            "resetgate-cli",
            "reset-user-password",
            "--generate-cli-skeleton",
        ])
        .unwrap();
        let Command::ResetUserPassword(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.input.generate_cli_skeleton, Some(SkeletonKind::Input));
        let cli = Cli::try_parse_from([
            "resetgate-cli",
            "reset-user-password",
            "--generate-cli-skeleton",
            "yaml-input",
        ])
        .unwrap();
        let Command::ResetUserPassword(args) = cli.command else {
            panic!()
        };
        assert_eq!(
            args.input.generate_cli_skeleton,
            Some(SkeletonKind::YamlInput)
        );
    }
}

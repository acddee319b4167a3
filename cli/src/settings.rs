//! Where the CLI's settings come from, in the AWS CLI's order: a flag, then an environment
//! variable, then the profile, then the default.
//!
//! The profiles file is INI, like the AWS CLI's `~/.aws/config`: `[default]` and
//! `[profile NAME]` sections of `key = value` lines, `#` or `;` comment lines. Its keys are
//! [`PROFILE_KEYS`]. It is `~/.resetgate/config`, or the file `RESETGATE_CLI_CONFIG_FILE`
//! names (not `RESETGATE_CONFIG_FILE`: that is the Lambda function's configuration document).

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use crate::{exit::Failure, output::OutputFormat};

/// The profiles file, instead of `~/.resetgate/config`.
pub const PROFILES_FILE_VAR: &str = "RESETGATE_CLI_CONFIG_FILE";
/// The profile to use when `--profile` is not given.
pub const PROFILE_VAR: &str = "RESETGATE_PROFILE";
/// The API's base URL when `--endpoint-url` is not given.
pub const ENDPOINT_VAR: &str = "RESETGATE_ENDPOINT_URL";
/// The output format when `--output` is not given.
pub const OUTPUT_VAR: &str = "RESETGATE_DEFAULT_OUTPUT";
/// The bearer token itself (after `--token-file`, before the profile's `token_file`).
pub const TOKEN_VAR: &str = "RESETGATE_TOKEN";
/// Attempts per request (1-10, default 5), like the AWS CLI's `AWS_MAX_ATTEMPTS`.
pub const MAX_ATTEMPTS_VAR: &str = "RESETGATE_MAX_ATTEMPTS";

/// The keys a profile may set.
pub const PROFILE_KEYS: [&str; 4] = ["endpoint_url", "output", "token_file", "max_attempts"];
/// Attempts per request unless configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
const MAX_MAX_ATTEMPTS: u32 = 10;

/// Where a setting's value came from, for `--debug` and for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--endpoint-url`.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A profile of the profiles file.
    Profile { name: String, file: PathBuf },
    /// Nothing set it.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "{flag}"),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::Profile { name, file } => write!(f, "profile {name} of {}", file.display()),
            Self::Default => write!(f, "default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// One profile of the profiles file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub endpoint_url: Option<String>,
    pub output: Option<OutputFormat>,
    /// Relative paths are taken from the profiles file's directory.
    pub token_file: Option<PathBuf>,
    pub max_attempts: Option<u32>,
}

/// Parses a profiles file. `file` is its path: relative `token_file`s are resolved against its
/// directory, and `~/` against `home`.
pub fn parse_profiles(
    text: &str,
    file: &Path,
    home: Option<&Path>,
) -> Result<BTreeMap<String, Profile>, String> {
    let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut seen_keys: Vec<(String, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = || format!("{} line {}", file.display(), index + 1);
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let section = section
                .strip_suffix(']')
                .ok_or_else(|| format!("{}: a section header must end with ']'", at()))?
                .trim();
            let name = match section.split_once(char::is_whitespace) {
                Some(("profile", name)) => name.trim(),
                _ if section == "default" => "default",
                _ => {
                    return Err(format!(
                        "{}: [{section}] is not a profile: write [default] or [profile {section}]",
                        at()
                    ));
                }
            };
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(format!("{}: a profile name must be one word", at()));
            }
            if profiles.contains_key(name) {
                return Err(format!("{}: profile {name} is defined twice", at()));
            }
            profiles.insert(name.to_owned(), Profile::default());
            current = Some(name.to_owned());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("{}: expected `key = value`", at()));
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        let Some(name) = current.as_ref() else {
            return Err(format!(
                "{}: `{key}` is outside any [profile NAME] section",
                at()
            ));
        };
        if seen_keys.contains(&(name.clone(), key.clone())) {
            return Err(format!("{}: `{key}` is set twice in profile {name}", at()));
        }
        seen_keys.push((name.clone(), key.clone()));
        if value.is_empty() {
            return Err(format!("{}: `{key}` has no value", at()));
        }
        let profile = profiles.get_mut(name).expect("the current section exists");
        match key.as_str() {
            "endpoint_url" => profile.endpoint_url = Some(value.to_owned()),
            "output" => {
                profile.output = Some(OutputFormat::parse(value).ok_or_else(|| {
                    format!("{}: output {value:?} {}", at(), OutputFormat::ONE_OF)
                })?);
            }
            "token_file" => profile.token_file = Some(resolve_path(value, file, home)),
            "max_attempts" => {
                profile.max_attempts =
                    Some(parse_attempts(value).map_err(|e| format!("{}: {e}", at()))?)
            }
            _ => {
                return Err(format!(
                    "{}: unknown key `{key}` (a profile may set {})",
                    at(),
                    PROFILE_KEYS.join(", ")
                ));
            }
        }
    }
    Ok(profiles)
}

/// `~/x` under `home`; a relative path under the profiles file's directory.
fn resolve_path(value: &str, file: &Path, home: Option<&Path>) -> PathBuf {
    if let (Some(rest), Some(home)) = (value.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    let path = PathBuf::from(value);
    if path.is_relative() {
        file.parent().unwrap_or(Path::new(".")).join(path)
    } else {
        path
    }
}

/// 1-10 attempts.
pub fn parse_attempts(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_MAX_ATTEMPTS).contains(&n) => Ok(n),
        _ => Err(format!(
            "max attempts {value:?} must be a whole number from 1 to {MAX_MAX_ATTEMPTS}"
        )),
    }
}

/// The environment, read once (tests give their own).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The variables this CLI reads, from the process's environment.
    pub fn from_process() -> Self {
        let names = [
            PROFILES_FILE_VAR,
            PROFILE_VAR,
            ENDPOINT_VAR,
            OUTPUT_VAR,
            TOKEN_VAR,
            MAX_ATTEMPTS_VAR,
            "HOME",
        ];
        let vars = names
            .iter()
            .filter_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| ((*name).to_owned(), v))
            })
            .collect();
        Self { vars }
    }

    /// An environment with exactly these variables.
    #[cfg(test)]
    pub fn of<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A variable's value, if set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }
}

/// What the command line says about settings (the global flags).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub output: Option<OutputFormat>,
    pub token_file: Option<PathBuf>,
}

/// The settings of one run, each with its source.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The profile in use, if any: its name and file.
    pub profile: Option<Sourced<String>>,
    pub endpoint_url: Option<Sourced<String>>,
    pub output: Sourced<OutputFormat>,
    /// `--token-file`; [`Settings::profile_token_file`] is the profile's, which ranks after
    /// `RESETGATE_TOKEN`.
    pub flag_token_file: Option<PathBuf>,
    pub profile_token_file: Option<Sourced<PathBuf>>,
    pub max_attempts: Sourced<u32>,
    /// The profiles file looked at, and whether it exists.
    pub profiles_file: Option<PathBuf>,
}

/// Where the profiles file is: `RESETGATE_CLI_CONFIG_FILE`, else `~/.resetgate/config`.
pub fn profiles_file(env: &Environment) -> Option<PathBuf> {
    env.get(PROFILES_FILE_VAR).map(PathBuf::from).or_else(|| {
        env.home()
            .map(|home| home.join(".resetgate").join("config"))
    })
}

/// Resolves the settings: flag, environment, profile, default. A missing profiles file is
/// no profile, unless a profile was asked for by name.
pub fn resolve(flags: &Flags, env: &Environment) -> Result<Settings, Failure> {
    let file = profiles_file(env);
    let asked = match (&flags.profile, env.get(PROFILE_VAR)) {
        (Some(name), _) => Some(Sourced {
            value: name.clone(),
            source: Source::Flag("--profile"),
        }),
        (None, Some(name)) => Some(Sourced {
            value: name.to_owned(),
            source: Source::Env(PROFILE_VAR),
        }),
        (None, None) => None,
    };
    let profiles = match &file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => parse_profiles(&text, path, env.home().as_deref())
                .map_err(Failure::Configuration)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => {
                return Err(Failure::Configuration(format!(
                    "cannot read the profiles file {}: {error}",
                    path.display()
                )));
            }
        },
        None => BTreeMap::new(),
    };
    let (profile_name, profile) = match asked {
        Some(asked) => match profiles.get(&asked.value) {
            Some(profile) => (Some(asked), profile.clone()),
            None => {
                let file = file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| {
                        format!("(no profiles file: set {PROFILES_FILE_VAR} or HOME)")
                    });
                let known = if profiles.is_empty() {
                    "it defines none".to_owned()
                } else {
                    format!(
                        "it defines {}",
                        profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                };
                return Err(Failure::Configuration(format!(
                    "the profile {} ({}) is not in the profiles file {file}: {known}",
                    asked.value, asked.source
                )));
            }
        },
        None => match profiles.get("default") {
            Some(profile) => (
                Some(Sourced {
                    value: "default".to_owned(),
                    source: Source::Default,
                }),
                profile.clone(),
            ),
            None => (None, Profile::default()),
        },
    };
    let from_profile = |name: &Sourced<String>| Source::Profile {
        name: name.value.clone(),
        file: file.clone().unwrap_or_default(),
    };

    let endpoint_url = if let Some(url) = &flags.endpoint_url {
        Some(Sourced {
            value: url.clone(),
            source: Source::Flag("--endpoint-url"),
        })
    } else if let Some(url) = env.get(ENDPOINT_VAR) {
        Some(Sourced {
            value: url.to_owned(),
            source: Source::Env(ENDPOINT_VAR),
        })
    } else {
        profile_name.as_ref().and_then(|name| {
            profile.endpoint_url.clone().map(|value| Sourced {
                value,
                source: from_profile(name),
            })
        })
    };

    let output = if let Some(output) = flags.output {
        Sourced {
            value: output,
            source: Source::Flag("--output"),
        }
    } else if let Some(value) = env.get(OUTPUT_VAR) {
        Sourced {
            value: OutputFormat::parse(value).ok_or_else(|| {
                Failure::Configuration(format!("{OUTPUT_VAR}={value:?}: {}", OutputFormat::ONE_OF))
            })?,
            source: Source::Env(OUTPUT_VAR),
        }
    } else {
        match (&profile_name, profile.output) {
            (Some(name), Some(value)) => Sourced {
                value,
                source: from_profile(name),
            },
            _ => Sourced {
                value: OutputFormat::Json,
                source: Source::Default,
            },
        }
    };

    let max_attempts = if let Some(value) = env.get(MAX_ATTEMPTS_VAR) {
        Sourced {
            value: parse_attempts(value)
                .map_err(|e| Failure::Configuration(format!("{MAX_ATTEMPTS_VAR}: {e}")))?,
            source: Source::Env(MAX_ATTEMPTS_VAR),
        }
    } else {
        match (&profile_name, profile.max_attempts) {
            (Some(name), Some(value)) => Sourced {
                value,
                source: from_profile(name),
            },
            _ => Sourced {
                value: DEFAULT_MAX_ATTEMPTS,
                source: Source::Default,
            },
        }
    };

    let profile_token_file = profile_name.as_ref().and_then(|name| {
        profile.token_file.clone().map(|value| Sourced {
            value,
            source: from_profile(name),
        })
    });

    Ok(Settings {
        profile: profile_name,
        endpoint_url,
        output,
        flag_token_file: flags.token_file.clone(),
        profile_token_file,
        max_attempts,
        profiles_file: file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/home/helpdesk/.resetgate/config";

    fn parse(text: &str) -> Result<BTreeMap<String, Profile>, String> {
        parse_profiles(text, Path::new(FILE), Some(Path::new("/home/helpdesk")))
    }

    #[test]
    fn a_profiles_file_like_the_aws_clis() {
        let profiles = parse(
            "# resetgate profiles\n\
             [default]\n\
             endpoint_url = https://abc123.execute-api.eu-west-1.amazonaws.com\n\
             output=table\n\
             \n\
             ; the helpdesk's own API\n\
             [profile helpdesk]\n\
             endpoint_url = https://api.example.com/prod\n\
             token_file = ~/.resetgate/token\n\
             max_attempts = 3\n\
             [profile relative]\n\
             token_file = tokens/id-token\n",
        )
        .unwrap();
        assert_eq!(profiles.len(), 3);
        assert_eq!(
            profiles["default"],
            Profile {
                endpoint_url: Some("https://abc123.execute-api.eu-west-1.amazonaws.com".into()),
                output: Some(OutputFormat::Table),
                ..Profile::default()
            }
        );
        assert_eq!(
            profiles["helpdesk"],
            Profile {
                endpoint_url: Some("https://api.example.com/prod".into()),
                output: None,
                token_file: Some("/home/helpdesk/.resetgate/token".into()),
                max_attempts: Some(3),
            }
        );
        assert_eq!(
            profiles["relative"].token_file,
            Some(PathBuf::from("/home/helpdesk/.resetgate/tokens/id-token"))
        );
    }

    #[test]
    fn a_broken_profiles_file_says_where() {
        let cases = [
            (
                "[helpdesk]\n",
                "line 1: [helpdesk] is not a profile: write [default] or [profile helpdesk]",
            ),
            (
                "endpoint_url = x\n",
                "line 1: `endpoint_url` is outside any [profile NAME] section",
            ),
            (
                "[default]\nregion = eu-west-1\n",
                "line 2: unknown key `region` (a profile may set endpoint_url, output, token_file, max_attempts)",
            ),
            (
                "[default]\noutput = xml\n",
                "line 2: output \"xml\" must be one of json, yaml, text, table",
            ),
            (
                "[default]\nmax_attempts = 0\n",
                "line 2: max attempts \"0\" must be a whole number from 1 to 10",
            ),
            (
                "[default]\n[default]\n",
                "line 2: profile default is defined twice",
            ),
            (
                "[default]\noutput = json\noutput = text\n",
                "line 3: `output` is set twice in profile default",
            ),
            (
                "[default]\nendpoint_url\n",
                "line 2: expected `key = value`",
            ),
            (
                "[default]\nendpoint_url =\n",
                "line 2: `endpoint_url` has no value",
            ),
            (
                "[profile two words]\n",
                "line 1: a profile name must be one word",
            ),
            ("[default\n", "line 1: a section header must end with ']'"),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error, format!("{FILE} {expected}"), "for {text:?}");
        }
    }

    fn write_profiles(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "resetgate-cli-settings-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_profile() {
        let file = write_profiles(
            "precedence",
            "[default]\nendpoint_url = https://default.example\noutput = yaml\nmax_attempts = 2\n\
             [profile other]\nendpoint_url = https://other.example\ntoken_file = /t/other\n",
        );
        let file = file.to_str().unwrap();

        // The default profile, when nothing else is said.
        let settings = resolve(
            &Flags::default(),
            &Environment::of([(PROFILES_FILE_VAR, file)]),
        )
        .unwrap();
        assert_eq!(
            settings.endpoint_url.as_ref().unwrap().value,
            "https://default.example"
        );
        assert_eq!(settings.output.value, OutputFormat::Yaml);
        assert_eq!(settings.max_attempts.value, 2);
        assert!(
            matches!(settings.output.source, Source::Profile { ref name, .. } if name == "default")
        );

        // The environment beats the profile.
        let env = Environment::of([
            (PROFILES_FILE_VAR, file),
            (ENDPOINT_VAR, "https://env.example"),
            (OUTPUT_VAR, "text"),
            (MAX_ATTEMPTS_VAR, "7"),
        ]);
        let settings = resolve(&Flags::default(), &env).unwrap();
        assert_eq!(
            settings.endpoint_url.as_ref().unwrap().value,
            "https://env.example"
        );
        assert_eq!(
            settings.endpoint_url.unwrap().source,
            Source::Env(ENDPOINT_VAR)
        );
        assert_eq!(settings.output.value, OutputFormat::Text);
        assert_eq!(settings.max_attempts.value, 7);

        // Flags beat both; --profile picks another profile.
        let flags = Flags {
            profile: Some("other".into()),
            endpoint_url: Some("https://flag.example".into()),
            output: Some(OutputFormat::Table),
            token_file: Some("/t/flag".into()),
        };
        let settings = resolve(&flags, &env).unwrap();
        assert_eq!(settings.endpoint_url.unwrap().value, "https://flag.example");
        assert_eq!(settings.output.value, OutputFormat::Table);
        assert_eq!(settings.output.source, Source::Flag("--output"));
        assert_eq!(settings.flag_token_file, Some(PathBuf::from("/t/flag")));
        assert_eq!(
            settings.profile_token_file.unwrap().value,
            PathBuf::from("/t/other")
        );
        assert_eq!(settings.profile.unwrap().value, "other");

        // RESETGATE_PROFILE picks a profile too, and --profile beats it.
        let env = Environment::of([(PROFILES_FILE_VAR, file), (PROFILE_VAR, "other")]);
        let settings = resolve(&Flags::default(), &env).unwrap();
        assert_eq!(
            settings.endpoint_url.unwrap().value,
            "https://other.example"
        );
        assert_eq!(
            settings.output.value,
            OutputFormat::Json,
            "the other profile sets no output"
        );
    }

    #[test]
    fn an_unknown_profile_is_a_configuration_error_naming_the_known_ones() {
        let file = write_profiles("unknown", "[default]\n[profile helpdesk]\n");
        let env = Environment::of([(PROFILES_FILE_VAR, file.to_str().unwrap())]);
        let flags = Flags {
            profile: Some("helpdsk".into()),
            ..Flags::default()
        };
        let Err(Failure::Configuration(message)) = resolve(&flags, &env) else {
            panic!("expected a configuration error");
        };
        assert!(
            message.contains("the profile helpdsk (--profile) is not in the profiles file"),
            "{message}"
        );
        assert!(
            message.ends_with("it defines default, helpdesk"),
            "{message}"
        );
    }

    #[test]
    fn no_profiles_file_means_defaults_unless_a_profile_is_named() {
        let env = Environment::of([(PROFILES_FILE_VAR, "/nonexistent/resetgate/config")]);
        let settings = resolve(&Flags::default(), &env).unwrap();
        assert_eq!(settings.output.value, OutputFormat::Json);
        assert_eq!(settings.output.source, Source::Default);
        assert_eq!(settings.max_attempts.value, DEFAULT_MAX_ATTEMPTS);
        assert!(settings.endpoint_url.is_none() && settings.profile.is_none());

        let env = Environment::of([
            (PROFILES_FILE_VAR, "/nonexistent/resetgate/config"),
            (PROFILE_VAR, "helpdesk"),
        ]);
        assert!(matches!(
            resolve(&Flags::default(), &env),
            Err(Failure::Configuration(_))
        ));
    }

    #[test]
    fn a_bad_environment_value_is_a_configuration_error() {
        for env in [
            Environment::of([(OUTPUT_VAR, "xml")]),
            Environment::of([(MAX_ATTEMPTS_VAR, "11")]),
        ] {
            assert!(matches!(
                resolve(&Flags::default(), &env),
                Err(Failure::Configuration(_))
            ));
        }
    }

    #[test]
    fn the_profiles_file_defaults_to_the_home_directory() {
        let env = Environment::of([("HOME", "/home/helpdesk")]);
        assert_eq!(
            profiles_file(&env),
            Some(PathBuf::from("/home/helpdesk/.resetgate/config"))
        );
        let env = Environment::of([("HOME", "/home/helpdesk"), (PROFILES_FILE_VAR, "/etc/rg")]);
        assert_eq!(profiles_file(&env), Some(PathBuf::from("/etc/rg")));
    }
}

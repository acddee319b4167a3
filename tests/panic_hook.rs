//! The panic hook withholds a panic's message, which can quote anything (a password in a
//! variable a bug formats): the process's whole output, stdout and stderr, is read here from a
//! child process that panics after installing the hook as `main` does.

use std::process::Command;

const CANARY: &str = "panic-canary-Pa55word-q8z";
const CHILD: &str = "RESETGATE_TEST_PANIC_CHILD";

#[test]
fn a_panic_message_never_reaches_the_output() {
    if std::env::var_os(CHILD).is_some() {
        // The child: logging and the hook as `logging::init` installs them, then a bug.
        tracing::subscriber::set_global_default(resetgate::logging::subscriber(
            tracing::Level::TRACE,
            std::io::stdout,
        ))
        .expect("the only subscriber");
        resetgate::logging::install_panic_hook();
        panic!("bug while resetting with {CANARY}");
    }
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "a_panic_message_never_reaches_the_output",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "the child panicked: {all}");
    assert!(
        all.contains("panic (message withheld)"),
        "the hook logs where it happened: {all}"
    );
    assert!(all.contains("tests/panic_hook.rs"), "and where: {all}");
    assert!(
        !all.contains(CANARY),
        "the message reached the output: {all}"
    );
}

//! Ctrl-C: exit 130 with a word on what the interrupted request may have done.
//!
//! Installed only once everything has been read from standard input and the files: until then
//! SIGINT keeps its default action (the process ends, and the shell reports 130 too). A
//! thread waits for the signal (signal-hook's self-pipe) and tells the runtime through a
//! oneshot channel; the command's future is dropped, which closes its connection.

use signal_hook::{consts::SIGINT, iterator::Signals};
use tokio::sync::oneshot;

/// Resolves at the first Ctrl-C.
pub struct CtrlC(oneshot::Receiver<()>);

impl CtrlC {
    /// Starts listening for SIGINT.
    pub fn listen() -> std::io::Result<Self> {
        let mut signals = Signals::new([SIGINT])?;
        let (tell, told) = oneshot::channel();
        std::thread::Builder::new()
            .name("ctrl-c".into())
            .spawn(move || {
                if signals.forever().next().is_some() {
                    let _ = tell.send(());
                }
            })?;
        Ok(Self(told))
    }

    /// Waits for the signal.
    pub async fn wait(self) {
        if self.0.await.is_err() {
            // The listening thread ended without a signal: never resolve.
            std::future::pending::<()>().await;
        }
    }
}

//! `azdo-operator run`: the controller manager.

use crate::cli::RunArgs;

/// Run every controller until shutdown.
pub async fn run(_args: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("the controller manager is not wired up yet")
}

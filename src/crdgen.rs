//! `azdo-operator crds`: render the CRDs generated from [`crate::api`].

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::api::{all_crds, crd_file_name, crd_yaml};

/// Print every CRD as a multi-document YAML stream, or write one file each into `out_dir`.
pub fn emit(out_dir: Option<&Path>) -> anyhow::Result<()> {
    let crds = all_crds();
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for crd in &crds {
                let path = dir.join(crd_file_name(crd));
                std::fs::write(&path, crd_yaml(crd)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            for crd in &crds {
                writeln!(out, "---")?;
                out.write_all(crd_yaml(crd)?.as_bytes())?;
            }
        }
    }
    Ok(())
}

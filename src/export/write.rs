//! Writing `export`'s manifests: one `---`-separated stream, or one file per object
//! (`<kind>-<name>.yaml`, names being unique per kind).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::build::ExportObject;

/// The objects as one YAML stream, each document starting with `---`.
pub fn stream(objects: &[ExportObject]) -> anyhow::Result<String> {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        out.push_str(&object.to_yaml().context("serializing")?);
    }
    Ok(out)
}

/// The file an object is written to in `--out-dir`.
pub fn file_name(object: &ExportObject) -> String {
    format!(
        "{}-{}.yaml",
        object.kind().to_ascii_lowercase(),
        object.name()
    )
}

/// Write the stream to `out`.
pub fn to_writer(objects: &[ExportObject], out: &mut impl Write) -> anyhow::Result<()> {
    out.write_all(stream(objects)?.as_bytes())
        .context("writing the manifests")?;
    out.flush().context("writing the manifests")
}

/// One file per object in `dir` (created if missing; files of the same name are replaced).
pub fn to_dir(objects: &[ExportObject], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for object in objects {
        let path = dir.join(file_name(object));
        let yaml = object.to_yaml().context("serializing")?;
        std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

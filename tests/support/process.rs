//! Child processes that cannot outlive the test process.
//!
//! The shared control plane lives in a `static`, which is never dropped, so its processes are
//! tied to the test process by the kernel instead: each child is spawned with
//! `PR_SET_PDEATHSIG = SIGKILL`. That signal fires when the *thread* that forked the child exits,
//! not the process, so every child is forked by one dedicated thread that lives until the process
//! ends. An `atexit` hook also kills the children and removes registered directories on a normal
//! exit (a SIGKILLed runner leaves directories behind; `sweep_stale_dirs` removes those later).

use super::error::{HarnessError, HarnessResult};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, Once, OnceLock};

type SpawnReply = mpsc::Sender<std::io::Result<Child>>;

/// A running child whose stdout and stderr go to a log file.
#[derive(Debug)]
pub struct ManagedProcess {
    name: String,
    child: Mutex<Child>,
    log_path: PathBuf,
}

impl ManagedProcess {
    /// Spawns `command` from the long-lived parent thread, logging to `log_path`.
    pub fn spawn(name: &str, command: Command, log_path: &Path) -> HarnessResult<Self> {
        let log = File::create(log_path)
            .map_err(|e| HarnessError::io(format!("creating {}", log_path.display()), e))?;
        let child = spawn_logging_to(name, command, log)?;
        Ok(Self {
            name: name.to_string(),
            child: Mutex::new(child),
            log_path: log_path.to_path_buf(),
        })
    }

    /// Kills the process if it still runs, then starts `command` in its place, appending to the
    /// same log (a restart, as a supervisor would do it).
    pub fn respawn(&self, command: Command) -> HarnessResult<()> {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
            .map_err(|e| HarnessError::io(format!("opening {}", self.log_path.display()), e))?;
        let child = spawn_logging_to(&self.name, command, log)?;
        *self
            .child
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = child;
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The exit status if the process has ended.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let status = child.try_wait().ok().flatten();
        if status.is_some() {
            // Reaped: the pid may be reused, so the exit hook must not signal it.
            forget_for_exit_kill(child.id());
        }
        status
    }

    /// Kills the process and waits for it.
    pub fn kill(&self) {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        forget_for_exit_kill(child.id());
    }

    /// The last `lines` lines of the process log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail_of_file(&self.log_path, lines)
    }

    /// A startup error carrying the end of this process' log.
    pub fn startup_error(&self, reason: impl Into<String>) -> HarnessError {
        HarnessError::Startup {
            process: self.name.clone(),
            reason: reason.into(),
            log: self.log_path.clone(),
            log_tail: self.log_tail(40),
        }
    }
}

/// Spawns `command` with stdout and stderr going to `log`, from the long-lived parent thread, so
/// that it dies with the test process.
fn spawn_logging_to(name: &str, mut command: Command, log: File) -> HarnessResult<Child> {
    let log_err = log
        .try_clone()
        .map_err(|e| HarnessError::io("duplicating a log file handle", e))?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    die_with_parent(&mut command);
    let (reply, response) = mpsc::channel();
    parent_thread()
        .send((command, reply))
        .map_err(|_| HarnessError::Invalid("the process parent thread is gone".into()))?;
    let child = response
        .recv()
        .map_err(|_| HarnessError::Invalid("the process parent thread is gone".into()))?
        .map_err(|e| HarnessError::io(format!("spawning {name}"), e))?;
    register_for_exit_kill(child.id());
    Ok(child)
}

/// The last `lines` lines of a (possibly large) text file; empty if it cannot be read.
pub fn tail_of_file(path: &Path, lines: usize) -> String {
    const MAX_BYTES: u64 = 64 * 1024;
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn die_with_parent(command: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// The thread that forks every child. It lives as long as the process, because the sender in
/// the static is never dropped.
fn parent_thread() -> &'static mpsc::Sender<(Command, SpawnReply)> {
    static SENDER: OnceLock<mpsc::Sender<(Command, SpawnReply)>> = OnceLock::new();
    SENDER.get_or_init(|| {
        let (sender, requests) = mpsc::channel::<(Command, SpawnReply)>();
        let spawned = std::thread::Builder::new()
            .name("e2e-process-parent".into())
            .spawn(move || {
                for (mut command, reply) in requests {
                    let _ = reply.send(command.spawn());
                }
            });
        if let Err(error) = spawned {
            // Spawn requests then fail with "the process parent thread is gone".
            eprintln!("e2e harness: cannot start the process parent thread: {error}");
        }
        sender
    })
}

#[derive(Default)]
struct ExitCleanup {
    pids: Vec<u32>,
    dirs: Vec<PathBuf>,
}

fn exit_cleanup() -> &'static Mutex<ExitCleanup> {
    static CLEANUP: OnceLock<Mutex<ExitCleanup>> = OnceLock::new();
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: registering a plain extern "C" function; it runs once at process exit.
        unsafe {
            libc::atexit(run_exit_cleanup);
        }
    });
    CLEANUP.get_or_init(Mutex::default)
}

fn register_for_exit_kill(pid: u32) {
    if let Ok(mut cleanup) = exit_cleanup().lock() {
        cleanup.pids.push(pid);
    }
}

fn forget_for_exit_kill(pid: u32) {
    if let Ok(mut cleanup) = exit_cleanup().lock() {
        cleanup.pids.retain(|&p| p != pid);
    }
}

/// Removes `dir` when the test process exits normally (after its processes are killed).
pub fn remove_dir_at_exit(dir: &Path) {
    if let Ok(mut cleanup) = exit_cleanup().lock() {
        cleanup.dirs.push(dir.to_path_buf());
    }
}

extern "C" fn run_exit_cleanup() {
    let Some(cleanup) = exit_cleanup().try_lock().ok() else {
        return;
    };
    for &pid in &cleanup.pids {
        // SAFETY: these are our own children; a pid already reaped makes kill/waitpid fail harmlessly.
        unsafe {
            let pid = pid as libc::pid_t;
            if libc::kill(pid, libc::SIGKILL) == 0 {
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
    for dir in &cleanup.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes `<base>/<prefix><pid>-*` directories whose process no longer exists.
pub fn sweep_stale_dirs(base: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
